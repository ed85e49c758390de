//! The model as the notebook saves and loads it: `model.state_dict()` in a safetensors
//! file (`layers.{i}.weight` `(out, in)`, `layers.{i}.bias` `(out,)`, `output_layer.*`).
//! The architecture is read from the shapes; every refusal names the tensor at fault.

use crate::files::mnist::{CLASSES, IMAGE_PIXELS};
use crate::files::tensors::{self, File, Values};
use crate::model::activation::Activation;
use crate::model::mlp::{Mlp, MAX_LAYERS, MAX_PARAMETERS};
use crate::model::optim::{Optimizer, OptimizerKind};
use crate::problem::Problem;
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
    let parameters = crate::model::mlp::parameter_count(inputs, &widths, below);
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
    imported(mlp, dtype, file.metadata)
}

/// The model read, with the activation its metadata names (none: the notebook's sigmoid).
fn imported(mlp: Mlp<f64>, dtype: String, metadata: BTreeMap<String, String>) -> Result<Imported, Problem> {
    let activation = match metadata.get("activation") {
        None => Activation::Sigmoid,
        Some(name) => Activation::from_name(name).ok_or_else(|| {
            let shown: String = name.chars().take(24).collect();
            Problem::new("st_unknown_activation", &[&shown])
        })?,
    };
    Ok(Imported {
        hidden_dims: mlp.layers.iter().map(|l| l.outputs()).collect(),
        mlp: mlp.cast().with_activation(activation),
        dtype,
        metadata,
    })
}

/// The model as a weights file in F32, with `metadata` as its `__metadata__` (and the
/// model's `activation`).
pub fn export(mlp: &Mlp<f32>, metadata: &BTreeMap<String, String>) -> Result<Vec<u8>, Problem> {
    write(mlp, None, metadata)
}

/// The optimiser's state tensors and their names: `momentum_buffer` (SGD), `exp_avg`
/// and `exp_avg_sq` (Adam), as `torch.optim` calls them.
fn state_tensors<T: crate::model::float::Float>(optimizer: &Optimizer<T>) -> Vec<(&'static str, &Vec<Vec<T>>)> {
    match optimizer.kind {
        OptimizerKind::Sgd { .. } => vec![("momentum_buffer", &optimizer.first)],
        OptimizerKind::Adam { .. } => vec![("exp_avg", &optimizer.first), ("exp_avg_sq", &optimizer.second)],
    }
}

/// A run as autosave keeps it: the weights file, plus the optimiser's state as tensors
/// `optimizer.{param}.{state}` shaped as their parameter, and its step count.
pub fn export_run(
    mlp: &Mlp<f32>,
    optimizer: &Optimizer<f32>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Problem> {
    write(mlp, Some(optimizer), metadata)
}

fn write(
    mlp: &Mlp<f32>,
    optimizer: Option<&Optimizer<f32>>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Problem> {
    let mut named: Vec<(String, Vec<usize>, Vec<f32>)> = mlp
        .state_dict()
        .into_iter()
        .map(|(i, v)| (i.name, i.shape, v))
        .collect();
    let mut metadata = metadata.clone();
    metadata.insert("activation".into(), mlp.activation.name().into());
    if let Some(optimizer) = optimizer {
        metadata.insert("optimizer_steps".into(), optimizer.steps.to_string());
        for (state, buffers) in state_tensors(optimizer).into_iter().filter(|(_, b)| !b.is_empty()) {
            // Laid out as the parameters, so state_dict's row-major order applies to them.
            let mut shaped = mlp.clone();
            for (param, buffer) in shaped.params_mut().zip(buffers) {
                param.copy_from_slice(buffer);
            }
            let dict = shaped.state_dict().into_iter();
            named.extend(dict.map(|(i, v)| (format!("optimizer.{}.{state}", i.name), i.shape, v)));
        }
    }
    let tensors = named.iter().map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()));
    tensors::write_f32(tensors, &metadata)
}

/// Read back what [`export_run`] wrote, into `optimizer` (fresh, as the run's settings
/// make it): the model and the optimiser as they were.
pub fn import_run(bytes: &[u8], mut optimizer: Optimizer<f32>) -> Result<(Imported, Optimizer<f32>), Problem> {
    let file = tensors::read(bytes)?;
    let (mlp, dtype) = model_from(&file, Some(IMAGE_PIXELS), Some(CLASSES), |k| {
        k.starts_with("optimizer.")
    })?;
    let steps = file
        .metadata
        .get("optimizer_steps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut states = Vec::new();
    for (state, _) in state_tensors(&optimizer) {
        let mut shaped = mlp.clone();
        let mut found = 0;
        for info in mlp.param_info() {
            let Some(tensor) = file.tensors.get(&format!("optimizer.{}.{state}", info.name)) else {
                continue;
            };
            let Values::Float(values) = &tensor.values else {
                return Err(Problem::new("st_dtype_integer", &[&info.name, &tensor.dtype]));
            };
            shaped
                .set_param(&info.name, &tensor.shape, values)
                .map_err(|e| Problem::new("st_shape_chain", &[&info.name, &e, &""]))?;
            found += 1;
        }
        let mut shaped: Mlp<f32> = shaped.cast();
        let buffers: Vec<Vec<f32>> = shaped.params_mut().map(|p| p.to_vec()).collect();
        states.push((found, buffers));
    }
    // A run that has not stepped yet (or plain SGD) keeps no state.
    if steps > 0 && states.iter().all(|(found, b)| *found == b.len()) {
        let mut states = states.into_iter().map(|(_, b)| b);
        optimizer.first = states.next().unwrap_or_default();
        optimizer.second = states.next().unwrap_or_default();
    } else if !optimizer.is_plain_sgd() && steps > 0 {
        return Err(Problem::new("resume_mismatch", &[]));
    }
    optimizer.steps = steps;
    Ok((imported(mlp, dtype, file.metadata)?, optimizer))
}

/// The widths from input to output: `784-256-10`.
pub fn arch(mlp: &Mlp<f32>) -> String {
    let first = mlp.layers.first().unwrap_or(&mlp.output_layer).inputs();
    let widths = std::iter::once(first).chain(mlp.layers.iter().map(|l| l.outputs()));
    let widths: Vec<String> = widths.chain([mlp.output_dim()]).map(|w| w.to_string()).collect();
    widths.join("-")
}

/// The export's file name: `mlp-784-256-10-epoch3.safetensors` after 3 epochs, or
/// `mlp-784-256-10-epoch4-batch469.safetensors` for weights from inside epoch 4.
pub fn file_name(mlp: &Mlp<f32>, epochs: usize, batches_into_epoch: usize) -> String {
    match batches_into_epoch {
        0 => format!("mlp-{}-epoch{epochs}.safetensors", arch(mlp)),
        batch => format!("mlp-{}-epoch{}-batch{batch}.safetensors", arch(mlp), epochs + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> BTreeMap<String, String> {
        BTreeMap::from([("format".to_string(), "pt".to_string())])
    }

    #[test]
    fn export_then_import_gives_the_same_parameters_for_any_hidden_dims() {
        for (hidden, activation) in [vec![], vec![256], vec![7, 300, 3]].into_iter().zip(Activation::ALL) {
            let mlp = Mlp::<f32>::new(784, &hidden, 10, 3).with_activation(activation);
            let bytes = export(&mlp, &metadata()).unwrap();
            let back = import(&bytes).unwrap();
            assert_eq!(back.mlp, mlp, "{hidden:?}");
            assert_eq!(back.hidden_dims, hidden);
            assert_eq!(back.dtype, "F32");
            let mut expected = metadata();
            expected.insert("activation".into(), activation.name().into());
            assert_eq!(back.metadata, expected);
        }
        let gelu = BTreeMap::from([("activation".to_string(), "gelu".to_string())]);
        let mut file = tensors::read(&export(&Mlp::<f32>::new(784, &[], 10, 1), &gelu).unwrap()).unwrap();
        file.metadata = gelu;
        let refused = imported(Mlp::new(784, &[], 10, 1), "F32".into(), file.metadata).unwrap_err();
        assert_eq!(refused.code, "st_unknown_activation");
        let mlp = Mlp::<f32>::new(784, &[5], 10, 3);
        assert_eq!(file_name(&mlp, 3, 0), "mlp-784-5-10-epoch3.safetensors");
        assert_eq!(
            file_name(&mlp, 3, 7),
            "mlp-784-5-10-epoch4-batch7.safetensors",
            "inside epoch 4"
        );
    }

    #[test]
    fn a_run_keeps_its_optimizer_state_to_the_bit() {
        let mut mlp = Mlp::<f32>::new(784, &[6], 10, 3).with_activation(Activation::Tanh);
        let x = nalgebra::DMatrix::from_fn(4, 784, |r, c| ((r * 7 + c) % 5) as f32 / 4.0);
        for kind in [OptimizerKind::MOMENTUM, OptimizerKind::ADAM, OptimizerKind::PLAIN_SGD] {
            let mut optimizer = Optimizer::<f32>::new(kind, 0.01, 0.001);
            for _ in 0..2 {
                let cache = mlp.forward_batch(x.clone());
                let mut grads = crate::model::mlp::Grads::default();
                mlp.backward(&cache, &cache.output, &mut grads, crate::model::mlp::Scope::Full);
                optimizer.step(&mut mlp, &grads);
            }
            let bytes = export_run(&mlp, &optimizer, &metadata()).unwrap();
            let (back, state) = import_run(&bytes, Optimizer::new(kind, 0.01, 0.001)).unwrap();
            assert_eq!((back.mlp, &state), (mlp.clone(), &optimizer), "{kind:?}");
            assert_eq!(state.steps, 2);
            // A save of another optimiser's run does not pass for this one's.
            let other = Optimizer::new(OptimizerKind::ADAM, 0.01, 0.0);
            if kind == OptimizerKind::MOMENTUM {
                assert_eq!(import_run(&bytes, other).unwrap_err().code, "resume_mismatch");
            }
        }
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
