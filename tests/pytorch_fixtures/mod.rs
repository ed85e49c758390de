//! Reading the JSON fixtures PyTorch made (`tests/fixtures/pytorch*/`, see their READMEs):
//! shared by the gradient parity test and the optimiser replay.
#![allow(dead_code)] // each test uses its part

use backprop_lab::model::activation::Activation;
use backprop_lab::model::float::Float;
use backprop_lab::model::loss::{mse, softmax_cross_entropy, LossKind};
use backprop_lab::model::mlp::Mlp;
use nalgebra::DMatrix;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A tensor as the fixtures store it: shape and row-major data.
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

pub fn tensor(v: &Value, key: &str) -> Result<Tensor, String> {
    let t = v.get(key).ok_or_else(|| format!("missing `{key}`"))?;
    let shape = t["shape"]
        .as_array()
        .ok_or_else(|| format!("`{key}.shape` is not a list"))?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| format!("`{key}.shape` holds a non-integer"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = t["data"]
        .as_array()
        .ok_or_else(|| format!("`{key}.data` is not a list"))?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("`{key}.data` holds a non-number")))
        .collect::<Result<Vec<_>, _>>()?;
    if shape.iter().product::<usize>() != data.len() {
        return Err(format!("`{key}`: shape {shape:?} does not match {} values", data.len()));
    }
    Ok(Tensor { shape, data })
}

/// A fixture tensor of shape (n,) or (B, n) as a (B, n) matrix; (n,) becomes (1, n).
pub fn as_batch<T: Float>(t: &Tensor) -> Result<DMatrix<T>, String> {
    let (rows, cols) = match t.shape[..] {
        [n] => (1, n),
        [b, n] => (b, n),
        _ => return Err(format!("expected a 1-D or 2-D tensor, got shape {:?}", t.shape)),
    };
    Ok(DMatrix::from_row_iterator(rows, cols, t.data.iter().map(|&v| T::of(v))))
}

/// 2-norm of (ours - reference) over max(1, 2-norm of reference); both in row-major
/// order of `reference.shape`.
pub fn error_norm<T: Float>(ours: &DMatrix<T>, reference: &Tensor) -> Result<f64, String> {
    let ours_row_major: Vec<f64> = ours.transpose().iter().map(|v| v.as_f64()).collect();
    if ours_row_major.len() != reference.data.len() {
        return Err(format!(
            "{} values, reference has {}",
            ours_row_major.len(),
            reference.data.len()
        ));
    }
    let difference = ours_row_major
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let size = reference.data.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(difference / size.max(1.0))
}

pub fn dims(v: &Value, key: &str) -> Result<Vec<usize>, String> {
    match &v[key] {
        Value::Number(n) => Ok(vec![n.as_u64().ok_or(format!("`{key}` is not a size"))? as usize]),
        Value::Array(list) => list
            .iter()
            .map(|d| {
                d.as_u64()
                    .map(|d| d as usize)
                    .ok_or(format!("`{key}` holds a non-size"))
            })
            .collect(),
        _ => Err(format!("missing `{key}`")),
    }
}

/// The fixture's model, with its `params`, and its loss.
pub fn model<T: Float>(v: &Value, params_key: &str) -> Result<(Mlp<T>, LossKind), String> {
    let name = v["activation"].as_str().ok_or("missing `activation`")?;
    let activation = Activation::from_name(name).ok_or_else(|| format!("activation `{name}` is not supported"))?;
    if let Some(reduction) = v.get("loss_reduction").and_then(Value::as_str) {
        if reduction != "mean" {
            return Err(format!("loss_reduction `{reduction}` is not supported (mean only)"));
        }
    }
    let loss_name = v["loss"].as_str().ok_or("missing `loss`")?;
    let loss = match loss_name {
        "mse" => LossKind::Mse,
        "cross_entropy" => LossKind::CrossEntropy,
        _ => return Err(format!("unknown loss `{loss_name}`")),
    };
    let input_dim = dims(v, "input_dim")?[0];
    let output_dim = dims(v, "output_dim")?[0];
    let hidden = dims(v, "hidden_dims")?;
    let mut mlp = Mlp::<T>::new(input_dim, &hidden, output_dim, 0).with_activation(activation);
    set_params(&mut mlp, &v[params_key])?;
    Ok((mlp, loss))
}

/// Every parameter from a `{name: tensor}` object, which must hold exactly the model's.
pub fn set_params<T: Float>(mlp: &mut Mlp<T>, params: &Value) -> Result<(), String> {
    let object = params.as_object().ok_or("missing parameters")?;
    let info = mlp.param_info();
    if object.len() != info.len() {
        return Err(format!("{} parameters, the model has {}", object.len(), info.len()));
    }
    for p in &info {
        let t = tensor(params, &p.name)?;
        let values: Vec<T> = t.data.iter().map(|&x| T::of(x)).collect();
        mlp.set_param(&p.name, &t.shape, &values)?;
    }
    Ok(())
}

/// The loss of `output` on a batch's target (`y` for MSE, `labels` for cross-entropy,
/// read from `v`); writes dL/doutput into `grad_output`.
pub fn loss_on<T: Float>(
    v: &Value,
    loss: LossKind,
    output: &DMatrix<T>,
    grad_output: &mut DMatrix<T>,
) -> Result<T, String> {
    let (batch, classes) = output.shape();
    *grad_output = DMatrix::zeros(batch, classes);
    Ok(match loss {
        LossKind::Mse => mse(output, &as_batch::<T>(&tensor(v, "y")?)?, grad_output),
        LossKind::CrossEntropy => {
            let labels = dims(v, "labels")?;
            if labels.len() != batch || labels.iter().any(|&y| y >= classes) {
                return Err(format!(
                    "labels {labels:?} do not fit batch {batch} and {classes} classes"
                ));
            }
            softmax_cross_entropy(output, &labels, grad_output)
        }
    })
}

/// The fixture folders: the ones in the repository, and `$MLP_FIXTURES_DIR` when set.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // pytorch-made-here: made by scripts/optimizer_fixtures.py (`make fixtures`).
    let mut dirs = vec![
        root.join("pytorch"),
        root.join("pytorch-more"),
        root.join("pytorch-made-here"),
    ];
    if let Some(extra) = std::env::var_os("MLP_FIXTURES_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    dirs
}

/// Every fixture of the folders, parsed, with its path; `optimizer` fixtures are told
/// apart from gradient fixtures by that key.
pub fn fixtures() -> Vec<(PathBuf, Result<Value, String>)> {
    let mut all = Vec::new();
    for dir in fixture_dirs() {
        let files = fixture_files(&dir);
        assert!(!files.is_empty(), "no *.json fixtures in {}", dir.display());
        for path in files {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|text| serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}")));
            all.push((path, parsed));
        }
    }
    all
}

pub fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read fixture folder {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}
