#![cfg(not(target_arch = "wasm32"))]
//! Parity with PyTorch autograd: every fixture in `tests/fixtures/pytorch/` (and in
//! `$MLP_FIXTURES_DIR` when set) is loaded, run through our forward, loss and
//! hand-written backward in the fixture's dtype, and compared tensor by tensor: the
//! 2-norm of the difference over max(1, the reference's 2-norm).

use backprop_lab::float::Float;
use backprop_lab::loss::{mse, softmax_cross_entropy, LossKind};
use backprop_lab::mlp::{Grads, Mlp, Scope};
use nalgebra::DMatrix;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A tensor as the fixtures store it: shape and row-major data.
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn tensor(v: &Value, key: &str) -> Result<Tensor, String> {
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
fn as_batch<T: Float>(t: &Tensor) -> Result<DMatrix<T>, String> {
    let (rows, cols) = match t.shape[..] {
        [n] => (1, n),
        [b, n] => (b, n),
        _ => return Err(format!("expected a 1-D or 2-D tensor, got shape {:?}", t.shape)),
    };
    Ok(DMatrix::from_row_iterator(rows, cols, t.data.iter().map(|&v| T::of(v))))
}

/// 2-norm of (ours - reference) over max(1, 2-norm of reference); both in row-major
/// order of `reference.shape`.
fn error_norm<T: Float>(ours: &DMatrix<T>, reference: &Tensor) -> Result<f64, String> {
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

fn dims(v: &Value, key: &str) -> Result<Vec<usize>, String> {
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

/// Run one fixture in the float type `T`; returns (label, error) for every compared tensor.
fn check<T: Float>(v: &Value) -> Result<Vec<(String, f64)>, String> {
    if v["activation"].as_str() != Some("sigmoid") {
        return Err(format!(
            "activation {} is not supported (sigmoid only)",
            v["activation"]
        ));
    }
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

    let mut mlp = Mlp::<T>::new(input_dim, &hidden, output_dim, 0);
    let params = v["params"].as_object().ok_or("missing `params`")?;
    let info = mlp.param_info();
    if params.len() != info.len() {
        return Err(format!("{} parameters, the model has {}", params.len(), info.len()));
    }
    for p in &info {
        let t = tensor(&v["params"], &p.name)?;
        let values: Vec<T> = t.data.iter().map(|&x| T::of(x)).collect();
        mlp.set_param(&p.name, &t.shape, &values)?;
    }

    let x = as_batch::<T>(&tensor(v, "x")?)?;
    let batch = x.nrows();
    let cache = mlp.forward_batch(x);
    let mut grad_output = DMatrix::zeros(batch, output_dim);
    let loss_value = match loss {
        LossKind::Mse => mse(&cache.output, &as_batch::<T>(&tensor(v, "y")?)?, &mut grad_output),
        LossKind::CrossEntropy => {
            let labels = dims(v, "labels")?;
            if labels.len() != batch || labels.iter().any(|&y| y >= output_dim) {
                return Err(format!(
                    "labels {labels:?} do not fit batch {batch} and {output_dim} classes"
                ));
            }
            softmax_cross_entropy(&cache.output, &labels, &mut grad_output)
        }
    };
    let mut grads = Grads::default();
    mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);

    let mut errors = vec![
        ("output".to_string(), error_norm(&cache.output, &tensor(v, "output")?)?),
        ("loss_value".to_string(), {
            let reference = v["loss_value"].as_f64().ok_or("missing `loss_value`")?;
            (loss_value.as_f64() - reference).abs() / reference.abs().max(1.0)
        }),
        (
            "grad_output".to_string(),
            error_norm(&grad_output, &tensor(v, "grad_output")?)?,
        ),
    ];
    let ours = grads.layers.iter().chain([&grads.output_layer]);
    for (p, chunk) in info.chunks(2).zip(ours) {
        let bias = DMatrix::from_column_slice(chunk.bias.len(), 1, chunk.bias.as_slice());
        for (param, mine) in p.iter().zip([&chunk.weight, &bias]) {
            let reference = tensor(&v["grads"], &param.name)?;
            if reference.shape != param.shape {
                return Err(format!(
                    "grads.{}: shape {:?}, expected {:?}",
                    param.name, reference.shape, param.shape
                ));
            }
            errors.push((format!("grads.{}", param.name), error_norm(mine, &reference)?));
        }
    }
    Ok(errors)
}

fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read fixture folder {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// What each precision can do: f64 agrees with PyTorch's f64 to rounding (about 1e-16),
/// so 1e-12 catches any step computed in f32 precision; f32 keeps the notebook's 1e-6.
const F64_BAR: f64 = 1e-12;
const F32_BAR: f64 = 1e-6;

fn check_file(path: &Path) -> Result<(String, f64), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    let (errors, bar) = match v["dtype"].as_str() {
        Some("float64") => (check::<f64>(&v)?, F64_BAR),
        Some("float32") => (check::<f32>(&v)?, F32_BAR),
        other => return Err(format!("dtype {other:?} is not float64 or float32")),
    };
    let failures: Vec<String> = errors
        .iter()
        .filter(|(_, e)| e.is_nan() || *e >= bar)
        .map(|(name, e)| format!("{name}: relative error {e:e} >= {bar:e}"))
        .collect();
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    let (worst_name, worst) = errors
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least the output is compared");
    Ok((worst_name, worst))
}

#[test]
fn every_fixture_matches_pytorch() {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch")];
    if let Some(extra) = std::env::var_os("MLP_FIXTURES_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in &dirs {
        let files = fixture_files(dir);
        assert!(!files.is_empty(), "no *.json fixtures in {}", dir.display());
        for path in files {
            match check_file(&path) {
                Ok((name, worst)) => {
                    println!("ok   {}: largest error {worst:.3e} ({name})", path.display());
                    checked += 1;
                }
                Err(message) => {
                    println!("FAIL {}: {message}", path.display());
                    failures.push(format!("{}: {message}", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "fixtures failed:\n{}", failures.join("\n"));
    println!("pytorch parity: {checked} fixtures checked");
}
