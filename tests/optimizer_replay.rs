#![cfg(not(target_arch = "wasm32"))]
//! `optimizer.step()` against `torch.optim`: every optimiser fixture (`optim_*` in
//! `tests/fixtures/pytorch-more/`, and any in `$MLP_FIXTURES_DIR`) is replayed step by
//! step from the same start, each step on its own batch: forward, loss, our hand-written
//! backward, our update. Each step's loss and the final parameters must match PyTorch's.

mod pytorch_fixtures;

use backprop_lab::model::mlp::{Grads, Mlp, Scope};
use backprop_lab::model::optim::{Optimizer, OptimizerKind};
use nalgebra::DMatrix;
use pytorch_fixtures::{as_batch, fixtures, loss_on, model, set_params, tensor};
use serde_json::Value;
use std::collections::BTreeMap;

/// Everything is float64, so the replay agrees with PyTorch to rounding: 1e-9 relative
/// is a thousand times looser than that, and far tighter than any mistake.
const BAR: f64 = 1e-9;

/// `{"name": "sgd", "lr", "momentum"?, "nesterov"?, "weight_decay"?}` or
/// `{"name": "adam", "lr", "betas", "eps", "weight_decay"?}`, as the fixture README says.
fn optimizer(spec: &Value) -> Result<(Optimizer<f64>, String), String> {
    let number = |key: &str, default: Option<f64>| {
        spec.get(key)
            .map(|v| v.as_f64().ok_or(format!("`optimizer.{key}` is not a number")))
            .unwrap_or(default.ok_or(format!("missing `optimizer.{key}`")))
    };
    let lr = number("lr", None)?;
    let weight_decay = number("weight_decay", Some(0.0))?;
    let kind = match spec["name"].as_str() {
        Some("sgd") => OptimizerKind::Sgd {
            momentum: number("momentum", Some(0.0))?,
            nesterov: spec.get("nesterov").and_then(Value::as_bool).unwrap_or(false),
        },
        Some("adam") => {
            let betas = spec["betas"].as_array().ok_or("missing `optimizer.betas`")?;
            let beta = |i: usize| {
                betas
                    .get(i)
                    .and_then(Value::as_f64)
                    .ok_or("`optimizer.betas` is not two numbers")
            };
            OptimizerKind::Adam {
                beta1: beta(0)?,
                beta2: beta(1)?,
                eps: number("eps", Some(1e-8))?,
            }
        }
        other => return Err(format!("optimizer {other:?} is not sgd or adam")),
    };
    let label = match kind {
        OptimizerKind::Sgd { nesterov: true, .. } => "sgd nesterov".to_string(),
        kind => kind.name().to_string(),
    };
    let label = if weight_decay > 0.0 {
        format!("{label} + weight decay")
    } else {
        label
    };
    Ok((Optimizer::new(kind, lr, weight_decay), label))
}

/// max over tensors of |ours - theirs|_2 / max(1e-300, |theirs|_2).
fn params_error(ours: &Mlp<f64>, reference: &Mlp<f64>) -> f64 {
    let mine = ours.state_dict();
    let theirs = reference.state_dict();
    mine.iter()
        .zip(&theirs)
        .map(|((_, a), (_, b))| {
            let diff = a.iter().zip(b).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
            diff / b.iter().map(|b| b * b).sum::<f64>().sqrt().max(1e-300)
        })
        .fold(0.0, f64::max)
}

/// Replay one fixture; returns its label and the largest relative error seen.
fn replay(v: &Value) -> Result<(String, f64), String> {
    if v["dtype"].as_str() != Some("float64") {
        return Err("optimiser fixtures are float64".into());
    }
    let (mut mlp, loss) = model::<f64>(v, "params")?;
    let (mut optimizer, label) = optimizer(&v["optimizer"])?;
    let steps = v["steps"].as_array().ok_or("missing `steps`")?;
    if steps.is_empty() {
        return Err("no steps".into());
    }
    let (mut grads, mut grad_output) = (Grads::default(), DMatrix::zeros(0, 0));
    let mut worst = 0.0f64;
    for (k, step) in steps.iter().enumerate() {
        let cache = mlp.forward_batch(as_batch::<f64>(&tensor(step, "x")?)?);
        let ours = loss_on(step, loss, &cache.output, &mut grad_output)?;
        let theirs = step["loss_value"].as_f64().ok_or("missing `loss_value`")?;
        let error = (ours - theirs).abs() / theirs.abs().max(1e-300);
        if error.is_nan() || error >= BAR {
            return Err(format!(
                "step {}: loss {ours} against PyTorch's {theirs} ({error:e})",
                k + 1
            ));
        }
        worst = worst.max(error);
        mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);
        optimizer.step(&mut mlp, &grads);
    }
    let mut expected = mlp.clone();
    set_params(&mut expected, &v["params_after"])?;
    let error = params_error(&mlp, &expected);
    if error.is_nan() || error >= BAR {
        return Err(format!(
            "parameters after {} steps: relative error {error:e}",
            steps.len()
        ));
    }
    Ok((label, worst.max(error)))
}

#[test]
fn every_optimizer_fixture_replays_as_pytorch_stepped() {
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, fixture) in fixtures() {
        let fixture = match fixture {
            Ok(v) if v.get("optimizer").is_none() => continue, // a gradient fixture
            other => other,
        };
        match fixture.and_then(|v| replay(&v)) {
            Ok((label, worst)) => {
                println!("ok   {}: {label}, largest relative error {worst:.3e}", path.display());
                *checked.entry(label).or_default() += 1;
            }
            Err(message) => {
                println!("FAIL {}: {message}", path.display());
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "fixtures failed:\n{}", failures.join("\n"));
    let total: usize = checked.values().sum();
    println!("optimizer replay: {total} fixtures checked, by optimiser {checked:?}");
    for kind in ["momentum", "adam"] {
        assert!(checked.contains_key(kind), "no {kind} fixture was checked");
    }
}
