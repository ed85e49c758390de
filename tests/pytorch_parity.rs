#![cfg(not(target_arch = "wasm32"))]
//! Parity with PyTorch autograd: every gradient fixture in `tests/fixtures/pytorch/` and
//! `pytorch-more/` (and in `$MLP_FIXTURES_DIR` when set) is loaded, run through our forward, loss and
//! hand-written backward in the fixture's dtype, and compared tensor by tensor: the
//! 2-norm of the difference over max(1, the reference's 2-norm).

mod pytorch_fixtures;

use backprop_lab::model::float::Float;
use backprop_lab::model::mlp::{Grads, Scope};
use nalgebra::DMatrix;
use pytorch_fixtures::{as_batch, error_norm, fixtures, loss_on, model, tensor};
use serde_json::Value;
use std::collections::BTreeMap;

/// Run one fixture in the float type `T`; returns (label, error) for every compared tensor.
fn check<T: Float>(v: &Value) -> Result<Vec<(String, f64)>, String> {
    let (mlp, loss) = model::<T>(v, "params")?;
    let info = mlp.param_info();
    let x = as_batch::<T>(&tensor(v, "x")?)?;
    let batch = x.nrows();
    let cache = mlp.forward_batch(x);
    let mut grad_output = DMatrix::zeros(batch, 0);
    let loss_value = loss_on(v, loss, &cache.output, &mut grad_output)?;
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

/// What each precision can do: f64 agrees with PyTorch's f64 to rounding (about 1e-16),
/// so 1e-12 catches any step computed in f32 precision; f32 keeps the notebook's 1e-6.
const F64_BAR: f64 = 1e-12;
const F32_BAR: f64 = 1e-6;

fn check_fixture(v: &Value) -> Result<(String, f64), String> {
    let (errors, bar) = match v["dtype"].as_str() {
        Some("float64") => (check::<f64>(v)?, F64_BAR),
        Some("float32") => (check::<f32>(v)?, F32_BAR),
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
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, fixture) in fixtures() {
        // Optimiser fixtures are the replay test's (tests/optimizer_replay.rs).
        if fixture.as_ref().is_ok_and(|v| v.get("optimizer").is_some()) {
            continue;
        }
        match fixture.and_then(|v| Ok((check_fixture(&v)?, v))) {
            Ok(((name, worst), v)) => {
                println!("ok   {}: largest error {worst:.3e} ({name})", path.display());
                *checked
                    .entry(v["activation"].as_str().unwrap_or("?").to_string())
                    .or_default() += 1;
            }
            Err(message) => {
                println!("FAIL {}: {message}", path.display());
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "fixtures failed:\n{}", failures.join("\n"));
    let total: usize = checked.values().sum();
    println!("pytorch parity: {total} gradient fixtures checked, by activation {checked:?}");
    for activation in ["sigmoid", "relu", "tanh"] {
        assert!(checked.contains_key(activation), "no {activation} fixture was checked");
    }
}
