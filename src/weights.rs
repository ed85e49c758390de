//! The model as the notebook saves and loads it: `model.state_dict()` in a safetensors
//! file (`layers.{i}.weight` `(out, in)`, `layers.{i}.bias` `(out,)`, `output_layer.*`).
//! The architecture is read from the shapes; every refusal names the tensor at fault.

use crate::form::MAX_LAYERS;
use crate::mlp::Mlp;
use crate::mnist::{CLASSES, IMAGE_PIXELS};
use crate::problem::Problem;
use crate::tensors::{self, File, Values};
use crate::train::MAX_PARAMETERS;
use std::collections::BTreeMap;

/// What the file's numbers were, as the page says it: `F32`, or `F16, F32` for a mix.
fn dtypes(file: &File, names: &[String]) -> String {
    let mut seen: Vec<&str> = names
        .iter()
        .filter_map(|n| file.tensors.get(n))
        .map(|t| t.dtype.as_str())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.join(", ")
}

/// The `state_dict` keys a net of `hidden` hidden layers has, in order.
fn expected_keys(hidden: usize) -> Vec<String> {
    let layers = (0..hidden).flat_map(|i| [format!("layers.{i}.weight"), format!("layers.{i}.bias")]);
    layers
        .chain(["output_layer.weight".into(), "output_layer.bias".into()])
        .collect()
}

fn is_parameter(key: &str) -> bool {
    key.starts_with("layers.") || key.starts_with("output_layer.")
}

/// The model in a file's parameter tensors (other keys are `extra`'s business: none
/// are allowed when it says so). `input_dim` / `output_dim`, when given, are required.
/// Returns the model in f64 and the dtypes it was stored in.
pub fn model_from(
    file: &File,
    input_dim: Option<usize>,
    output_dim: Option<usize>,
    extra_allowed: impl Fn(&str) -> bool,
) -> Result<(Mlp<f64>, String), Problem> {
    let keys: Vec<&str> = file.tensors.keys().map(String::as_str).collect();
    let hidden = keys
        .iter()
        .filter(|k| k.starts_with("layers.") && k.ends_with(".weight"))
        .count();
    let expected = expected_keys(hidden);
    let missing: Vec<&str> = expected
        .iter()
        .map(String::as_str)
        .filter(|k| !keys.contains(k))
        .collect();
    let unexpected: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !expected.iter().any(|e| e == k) && !extra_allowed(k))
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        let list = |keys: &[&str]| keys.join(", ");
        // nn.Sequential names its layers by position: 0.weight, 2.weight, ...
        let positional = |k: &&str| {
            k.split_once('.')
                .is_some_and(|(i, rest)| i.parse::<usize>().is_ok() && !rest.contains('.'))
        };
        if keys.iter().any(positional) {
            let shown: Vec<&str> = keys.iter().copied().filter(positional).collect();
            return Err(Problem::new("st_keys_sequential", &[&list(&shown)]));
        }
        let prefixed = keys
            .iter()
            .find_map(|k| ["model.", "module."].into_iter().find(|p| k.starts_with(p)));
        let code = match (prefixed, missing.is_empty()) {
            (Some(_), _) => "st_keys_prefixed",
            (None, false) => "st_keys_missing",
            (None, true) => "st_keys_unexpected",
        };
        let shown: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| is_parameter(k) || !extra_allowed(k))
            .collect();
        let args: [&dyn std::fmt::Display; 5] = [
            &list(&missing),
            &list(&unexpected),
            &list(&shown),
            &list(&expected.iter().map(String::as_str).collect::<Vec<_>>()),
            &prefixed.unwrap_or(""),
        ];
        return Err(Problem::new(code, &args));
    }
    if hidden > MAX_LAYERS {
        return Err(Problem::new("too_many_layers", &[&hidden, &MAX_LAYERS]));
    }
    // Walk the chain: each weight is (out, in) with `in` the width below it.
    let shape = |key: &str| file.tensors[key].shape.clone();
    let first = shape(if hidden > 0 {
        "layers.0.weight"
    } else {
        "output_layer.weight"
    });
    let Some(&inputs) = first.get(1).filter(|_| first.len() == 2) else {
        let name = if hidden > 0 {
            "layers.0.weight"
        } else {
            "output_layer.weight"
        };
        return Err(Problem::new(
            "st_shape_chain",
            &[&name, &format!("{first:?}"), &"[out, in]"],
        ));
    };
    if let Some(wanted) = input_dim.filter(|&d| d != inputs) {
        let name = if hidden > 0 {
            "layers.0.weight"
        } else {
            "output_layer.weight"
        };
        if first[0] == wanted {
            // (in, out): the transpose of what nn.Linear stores.
            let stored = format!("({}, {})", first[0], first[1]);
            return Err(Problem::new("st_transposed", &[&name, &stored, &first[1], &first[0]]));
        }
        return Err(Problem::new("st_input_dim", &[&inputs, &wanted]));
    }
    let mut widths = Vec::with_capacity(hidden);
    let mut below = inputs;
    for l in 0..=hidden {
        let prefix = if l == hidden {
            "output_layer".to_string()
        } else {
            format!("layers.{l}")
        };
        let (weight, bias) = (format!("{prefix}.weight"), format!("{prefix}.bias"));
        let w = shape(&weight);
        if w.len() != 2 || w[1] != below || w[0] == 0 {
            let wanted = format!("[{}, {below}]", w.first().map_or("out".to_string(), |o| o.to_string()));
            return Err(Problem::new("st_shape_chain", &[&weight, &format!("{w:?}"), &wanted]));
        }
        let b = shape(&bias);
        if b != [w[0]] {
            return Err(Problem::new(
                "st_shape_chain",
                &[&bias, &format!("{b:?}"), &format!("[{}]", w[0])],
            ));
        }
        below = w[0];
        if l < hidden {
            widths.push(below);
        }
    }
    if let Some(wanted) = output_dim.filter(|&d| d != below) {
        return Err(Problem::new("st_output_dim", &[&below, &wanted]));
    }
    let parameters = crate::mlp::parameter_count(inputs, &widths, below);
    if parameters > MAX_PARAMETERS {
        return Err(Problem::new("too_many_parameters", &[&parameters, &MAX_PARAMETERS]));
    }
    let mut mlp = Mlp::<f64>::new(inputs, &widths, below, 0);
    for key in &expected {
        let tensor = &file.tensors[key];
        let Values::Float(values) = &tensor.values else {
            return Err(Problem::new("st_dtype_integer", &[key, &tensor.dtype]));
        };
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Problem::new("st_not_finite", &[key]));
        }
        mlp.set_param(key, &tensor.shape, values)
            .map_err(|e| Problem::new("st_shape_chain", &[key, &e, &""]))?;
    }
    Ok((mlp, dtypes(file, &expected)))
}

/// A model read from a weights file for MNIST (784 in, 10 out).
#[derive(Clone, Debug)]
pub struct Imported {
    pub mlp: Mlp<f32>,
    pub hidden_dims: Vec<usize>,
    /// The dtypes the weights were stored in (`F32`, `BF16`, ...).
    pub dtype: String,
    pub metadata: BTreeMap<String, String>,
}

/// Read a weights file saved with `save_file(model.state_dict(), path)`; nothing else
/// changes when it is refused.
pub fn import(bytes: &[u8]) -> Result<Imported, Problem> {
    let file = tensors::read(bytes)?;
    if file.tensors.keys().any(|k| k.starts_with("grad.")) {
        return Err(Problem::new("st_is_bundle", &[]));
    }
    let (mlp, dtype) = model_from(&file, Some(IMAGE_PIXELS), Some(CLASSES), |_| false)?;
    Ok(Imported {
        hidden_dims: mlp.layers.iter().map(|l| l.outputs()).collect(),
        mlp: mlp.cast(),
        dtype,
        metadata: file.metadata,
    })
}

/// The model as a weights file in F32, with `metadata` as its `__metadata__`.
pub fn export(mlp: &Mlp<f32>, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, Problem> {
    let dict = mlp.state_dict();
    let tensors = dict
        .iter()
        .map(|(info, values)| (info.name.as_str(), info.shape.as_slice(), values.as_slice()));
    tensors::write_f32(tensors, metadata)
}

/// The widths from input to output: `784-256-10`.
pub fn arch(mlp: &Mlp<f32>) -> String {
    let first = mlp.layers.first().unwrap_or(&mlp.output_layer).inputs();
    let widths = std::iter::once(first).chain(mlp.layers.iter().map(|l| l.outputs()));
    let widths: Vec<String> = widths.chain([mlp.output_dim()]).map(|w| w.to_string()).collect();
    widths.join("-")
}

/// The export's file name: `mlp-784-256-10-epoch3.safetensors`.
pub fn file_name(mlp: &Mlp<f32>, epochs: usize) -> String {
    format!("mlp-{}-epoch{epochs}.safetensors", arch(mlp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> BTreeMap<String, String> {
        BTreeMap::from([("format".to_string(), "pt".to_string())])
    }

    #[test]
    fn export_then_import_gives_the_same_parameters_for_any_hidden_dims() {
        for hidden in [vec![], vec![256], vec![7, 300, 3]] {
            let mlp = Mlp::<f32>::new(784, &hidden, 10, 3);
            let bytes = export(&mlp, &metadata()).unwrap();
            let back = import(&bytes).unwrap();
            assert_eq!(back.mlp, mlp, "{hidden:?}");
            assert_eq!(back.hidden_dims, hidden);
            assert_eq!(back.dtype, "F32");
            assert_eq!(back.metadata, metadata());
        }
        let mlp = Mlp::<f32>::new(784, &[5], 10, 3);
        assert_eq!(file_name(&mlp, 3), "mlp-784-5-10-epoch3.safetensors");
    }

    /// A file of the model's tensors in another dtype, written by hand as PyTorch would.
    fn write_as(mlp: &Mlp<f32>, dtype: &str, width: usize, encode: fn(f32) -> Vec<u8>) -> Vec<u8> {
        let (mut header, mut data) = (Vec::new(), Vec::new());
        for (info, values) in mlp.state_dict() {
            let start = data.len();
            data.extend(values.iter().flat_map(|&v| encode(v)));
            assert_eq!(data.len() - start, values.len() * width);
            header.push(format!(
                r#""{}":{{"dtype":"{dtype}","shape":{:?},"data_offsets":[{start},{}]}}"#,
                info.name,
                info.shape,
                data.len()
            ));
        }
        let header = format!("{{{}}}", header.join(","));
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(header.as_bytes());
        file.extend(data);
        file
    }

    #[test]
    fn f64_f16_and_bf16_files_load_as_f32_and_say_so() {
        let mlp = Mlp::<f32>::new(784, &[12], 10, 4);
        let f64s = import(&write_as(&mlp, "F64", 8, |v| (v as f64).to_le_bytes().to_vec())).unwrap();
        assert_eq!((f64s.mlp.clone(), f64s.dtype.as_str()), (mlp.clone(), "F64"));
        let f16 = import(&write_as(&mlp, "F16", 2, |v| {
            half::f16::from_f32(v).to_le_bytes().to_vec()
        }))
        .unwrap();
        assert_eq!(f16.dtype, "F16");
        let bf16 = import(&write_as(&mlp, "BF16", 2, |v| {
            half::bf16::from_f32(v).to_le_bytes().to_vec()
        }))
        .unwrap();
        assert_eq!(bf16.dtype, "BF16");
        // Half precision keeps about 3 (f16) or 2 (bf16) significant digits.
        let w = |m: &Mlp<f32>| m.layers[0].weight[(3, 400)];
        assert!((w(&f16.mlp) - w(&mlp)).abs() < 1e-3 * w(&mlp).abs().max(0.01));
        assert!((w(&bf16.mlp) - w(&mlp)).abs() < 1e-2 * w(&mlp).abs().max(0.01));
        let ints = write_as(&mlp, "I32", 4, |v| (v as i32).to_le_bytes().to_vec());
        let refused = import(&ints).unwrap_err();
        assert_eq!((refused.code, refused.args[1].as_str()), ("st_dtype_integer", "I32"));
    }

    /// A file of (name, shape) tensors of zeros, or of `fill`.
    fn file_of(tensors: &[(&str, &[usize])], fill: f32) -> Vec<u8> {
        let owned: Vec<(String, Vec<usize>, Vec<f32>)> = tensors
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_vec(), vec![fill; s.iter().product()]))
            .collect();
        let list = owned.iter().map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()));
        tensors::write_f32(list, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn each_wrong_model_file_names_its_problem() {
        let code = |bytes: &[u8]| import(bytes).unwrap_err();
        let good: [(&str, &[usize]); 4] = [
            ("layers.0.weight", &[8, 784]),
            ("layers.0.bias", &[8]),
            ("output_layer.weight", &[10, 8]),
            ("output_layer.bias", &[10]),
        ];
        assert!(import(&file_of(&good, 0.5)).is_ok());
        let missing = code(&file_of(&good[..3], 0.0));
        assert_eq!(
            (missing.code, missing.args[0].as_str()),
            ("st_keys_missing", "output_layer.bias")
        );
        assert!(missing.args[3].contains("layers.0.weight, layers.0.bias, output_layer.weight, output_layer.bias"));
        let extra = code(&file_of(&[&good[..], &[("optimizer.lr", &[1][..])]].concat(), 0.0));
        assert_eq!(
            (extra.code, extra.args[1].as_str()),
            ("st_keys_unexpected", "optimizer.lr")
        );
        let prefixed: Vec<(String, &[usize])> = good.iter().map(|(n, s)| (format!("model.{n}"), *s)).collect();
        let prefixed: Vec<(&str, &[usize])> = prefixed.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let hint = code(&file_of(&prefixed, 0.0));
        assert_eq!((hint.code, hint.args[4].as_str()), ("st_keys_prefixed", "model."));
        let mut chain = good;
        chain[2] = ("output_layer.weight", &[10, 9]);
        let broken = code(&file_of(&chain, 0.0));
        assert_eq!(broken.code, "st_shape_chain");
        assert_eq!(broken.args, ["output_layer.weight", "[10, 9]", "[10, 8]"]);
        let mut wide = good;
        wide[0] = ("layers.0.weight", &[8, 785]);
        assert_eq!(code(&file_of(&wide, 0.0)).args, ["785", "784"]);
        let mut transposed = good;
        transposed[0] = ("layers.0.weight", &[784, 8]);
        assert_eq!(code(&file_of(&transposed, 0.0)).code, "st_transposed");
        let sequential: [(&str, &[usize]); 4] = [
            ("0.weight", &[8, 784]),
            ("0.bias", &[8]),
            ("2.weight", &[10, 8]),
            ("2.bias", &[10]),
        ];
        let named = code(&file_of(&sequential, 0.0));
        assert_eq!(
            (named.code, named.args[0].as_str()),
            ("st_keys_sequential", "0.bias, 0.weight, 2.bias, 2.weight")
        );
        let mut eleven = good;
        eleven[2] = ("output_layer.weight", &[11, 8]);
        eleven[3] = ("output_layer.bias", &[11]);
        assert_eq!(code(&file_of(&eleven, 0.0)).code, "st_output_dim");
        let nan = code(&file_of(&good, f32::NAN));
        assert_eq!((nan.code, nan.args[0].as_str()), ("st_not_finite", "layers.0.weight"));
        assert_eq!(code(&file_of(&good, f32::INFINITY)).code, "st_not_finite");
        let no_hidden: [(&str, &[usize]); 2] = [("output_layer.weight", &[10, 784]), ("output_layer.bias", &[10])];
        assert_eq!(
            import(&file_of(&no_hidden, 0.1)).unwrap().hidden_dims,
            Vec::<usize>::new()
        );
    }
}
