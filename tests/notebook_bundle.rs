#![cfg(not(target_arch = "wasm32"))]
//! "Check my notebook's backward": bundles made from PyTorch's own fixtures, right and
//! with the classic mistakes seeded, and broken bundles.

mod pytorch_fixtures;

use backprop_lab::check::bundle::{check, Hint};
use backprop_lab::model::loss::LossKind;
use backprop_lab::model::mlp::{Grads, Scope};
use nalgebra::DMatrix;
use serde_json::Value;

/// A tensor of a bundle: name, dtype, shape and its little-endian bytes.
type Entry = (String, &'static str, Vec<usize>, Vec<u8>);

fn f64s(name: &str, shape: Vec<usize>, values: &[f64]) -> Entry {
    (
        name.to_string(),
        "F64",
        shape,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

fn f32s(name: &str, shape: Vec<usize>, values: &[f64]) -> Entry {
    let bytes = values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
    (name.to_string(), "F32", shape, bytes)
}

fn i64s(name: &str, shape: Vec<usize>, values: &[i64]) -> Entry {
    (
        name.to_string(),
        "I64",
        shape,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// A safetensors file, written out by hand as `save_file` lays it out.
fn write(entries: &[Entry], loss: Option<&str>) -> Vec<u8> {
    write_with(entries, &loss.map(|l| format!(r#""loss":"{l}""#)).unwrap_or_default())
}

/// A bundle whose `__metadata__` holds `metadata` (`"key":"value"` pairs), if any.
fn write_with(entries: &[Entry], metadata: &str) -> Vec<u8> {
    let (mut header, mut data): (Vec<String>, Vec<u8>) = (Vec::new(), Vec::new());
    for (name, dtype, shape, bytes) in entries {
        let start = data.len();
        data.extend(bytes);
        header.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    }
    if !metadata.is_empty() {
        header.push(format!(r#""__metadata__":{{{metadata}}}"#));
    }
    let header = format!("{{{}}}", header.join(","));
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header.as_bytes());
    file.extend(data);
    file
}

fn fixture(name: &str) -> Value {
    fixture_in("pytorch", name)
}

fn fixture_in(folder: &str, name: &str) -> Value {
    let text = std::fs::read_to_string(format!("tests/fixtures/{folder}/{name}.json")).expect("a fixture");
    serde_json::from_str(&text).expect("JSON")
}

fn tensor(v: &Value) -> (Vec<usize>, Vec<f64>) {
    let list = |key: &str| v[key].as_array().expect("a list").clone();
    let shape = list("shape")
        .iter()
        .map(|d| d.as_u64().expect("a size") as usize)
        .collect();
    let data = list("data").iter().map(|x| x.as_f64().expect("a number")).collect();
    (shape, data)
}

/// The notebook's bundle for a fixture: its parameters, input, target and PyTorch's
/// gradients, with `change` applied to each gradient (by name) first.
fn bundle(
    f: &Value,
    change: impl Fn(&str, &mut Vec<f64>),
    precision: fn(&str, Vec<usize>, &[f64]) -> Entry,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (name, t) in f["params"].as_object().expect("params") {
        let (shape, data) = tensor(t);
        entries.push(f64s(name, shape, &data));
    }
    for (name, t) in f["grads"].as_object().expect("grads") {
        let (shape, mut data) = tensor(t);
        change(name, &mut data);
        entries.push(precision(&format!("grad.{name}"), shape, &data));
    }
    let (shape, x) = tensor(&f["x"]);
    entries.push(f64s("input", shape, &x));
    if f["loss"] == "mse" {
        let (shape, y) = tensor(&f["y"]);
        entries.push(f64s("target", shape, &y));
    } else {
        match &f["labels"] {
            Value::Number(n) => entries.push(i64s("target", vec![], &[n.as_i64().expect("a label")])),
            labels => {
                let labels: Vec<i64> = labels
                    .as_array()
                    .expect("labels")
                    .iter()
                    .map(|l| l.as_i64().expect("a label"))
                    .collect();
                entries.push(i64s("target", vec![labels.len()], &labels));
            }
        }
    }
    entries
}

fn failing(bytes: &[u8]) -> (Vec<String>, Option<Hint>) {
    let report = check(bytes).expect("a valid bundle");
    let failed = report
        .rows
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.name.clone())
        .collect();
    (failed, report.hint)
}

#[test]
fn pytorchs_own_gradients_pass_in_every_form_the_notebook_saves() {
    for (name, loss) in [
        ("seed_part1_single_sample_mse", "mse"),
        ("batch8_mse", "mse"),
        ("deep_batch4_cross_entropy", "cross_entropy"),
        ("single_sample_cross_entropy", "cross_entropy"),
        ("no_hidden_layer_mse", "mse"),
    ] {
        let f = fixture(name);
        let report = check(&write(&bundle(&f, |_, _| {}, f64s), Some(loss))).expect(name);
        assert!(report.rows.iter().all(|r| r.passed), "{name}: {:?}", report.rows);
        assert_eq!(report.rows.len(), f["params"].as_object().expect("params").len());
        assert_eq!(report.hint, None);
        assert!(
            (report.loss - f["loss_value"].as_f64().expect("loss")).abs() < 1e-12,
            "{name}"
        );
        assert!(
            report.reference_error.expect("small enough to check numerically") < 1e-6,
            "{name}"
        );
        assert_eq!(report.dtype, "F64");
    }
    // The notebook's Part 1 input is 1-D; without metadata, an integer target means cross-entropy.
    let part1 = check(&write(
        &bundle(&fixture("seed_part1_single_sample_mse"), |_, _| {}, f64s),
        None,
    ))
    .expect("1-D");
    assert_eq!((part1.input_shape, part1.loss_kind), (vec![32], LossKind::Mse));
    let ce = check(&write(
        &bundle(&fixture("single_sample_cross_entropy"), |_, _| {}, f64s),
        None,
    ))
    .expect("CE");
    assert_eq!(ce.loss_kind, LossKind::CrossEntropy);
    // Gradients saved in f32 (the notebook's default dtype) pass with the bar scaled to their size.
    let f32_bundle = write(
        &bundle(&fixture("seed_part1_single_sample_mse_f32"), |_, _| {}, f32s),
        Some("mse"),
    );
    let report = check(&f32_bundle).expect("f32");
    assert!(report.rows.iter().all(|r| r.passed), "{:?}", report.rows);
    assert!(report.bar_scales && report.dtype == "F32");
}

#[test]
fn each_classic_mistake_is_caught_with_its_hint() {
    let batch = fixture("batch8_mse");
    let save = |change: &dyn Fn(&str, &mut Vec<f64>)| write(&bundle(&batch, change, f64s), Some("mse"));
    let (failed, hint) = failing(&save(&|name, g| {
        if name.ends_with(".bias") {
            g.iter_mut().for_each(|v| *v /= 8.0); // grad.mean(0)
        }
    }));
    assert_eq!(failed, ["layers.0.bias", "layers.1.bias", "output_layer.bias"]);
    assert_eq!(hint, Some(Hint::BiasSum));
    let (failed, hint) = failing(&save(&|name, g| {
        if name.starts_with("layers.") {
            g.iter_mut().for_each(|v| *v *= 3.0);
        }
    }));
    assert_eq!(failed.len(), 4);
    assert_eq!(hint, Some(Hint::SigmoidDerivative));
    let (failed, hint) = failing(&save(&|_, g| g.iter_mut().for_each(|v| *v = -*v)));
    assert_eq!(failed.len(), 6);
    assert!(
        matches!(hint, Some(Hint::Scaled(f)) if (f + 1.0).abs() < 1e-9),
        "{hint:?}"
    );
    let (_, hint) = failing(&save(&|_, g| g.iter_mut().for_each(|v| *v *= 0.5)));
    assert!(
        matches!(hint, Some(Hint::Scaled(f)) if (f - 0.5).abs() < 1e-9),
        "half: MSE's 2 forgotten"
    );
    let (_, hint) = failing(&save(&|name, g| {
        if name == "layers.1.weight" || name == "output_layer.weight" {
            g[0] += 0.1;
        }
    }));
    assert_eq!(hint, Some(Hint::LayerInput));
    let (failed, hint) = failing(&save(&|name, g| {
        if name == "layers.1.bias" {
            g[1] += 1e-3;
        }
    }));
    assert_eq!(
        (failed, hint),
        (
            vec!["layers.1.bias".to_string()],
            Some(Hint::FirstWrong("layers.1.bias".into()))
        )
    );
    // Everything wrong in no one pattern.
    let (_, hint) = failing(&save(&|_, g| {
        g.iter_mut().enumerate().for_each(|(i, v)| *v += (i % 3) as f64 * 0.01)
    }));
    assert_eq!(hint, Some(Hint::GradOutput));
    // A gradient left out, and one transposed.
    let mut entries = bundle(&batch, |_, _| {}, f64s);
    entries.retain(|e| e.0 != "grad.layers.0.weight");
    let report = check(&write(&entries, Some("mse"))).expect("valid");
    let missing = report.rows.iter().find(|r| r.name == "layers.0.weight").expect("a row");
    assert!(!missing.passed && missing.grad_shape.is_none());
    assert_eq!(report.hint, Some(Hint::Missing));
    let mut entries = bundle(&batch, |_, _| {}, f64s);
    for e in &mut entries {
        if e.0 == "grad.output_layer.weight" {
            e.2 = vec![4, 2];
        }
    }
    let report = check(&write(&entries, Some("mse"))).expect("valid");
    let transposed = report
        .rows
        .iter()
        .find(|r| r.name == "output_layer.weight")
        .expect("a row");
    assert_eq!(transposed.grad_shape, Some(vec![4, 2]));
    assert!(!transposed.passed && transposed.error_norm.is_infinite());
}

#[test]
fn a_broken_bundle_names_its_problem() {
    let f = fixture("batch8_mse");
    let code = |entries: &[Entry], loss: Option<&str>| check(&write(entries, loss)).expect_err("refused").code;
    let without = |key: &str| {
        bundle(&f, |_, _| {}, f64s)
            .into_iter()
            .filter(|e| e.0 != key)
            .collect::<Vec<_>>()
    };
    assert_eq!(code(&without("input"), Some("mse")), "bundle_missing");
    assert_eq!(code(&without("target"), Some("mse")), "bundle_missing");
    assert_eq!(code(&without("layers.1.bias"), Some("mse")), "st_keys_missing");
    let mut wide = bundle(&f, |_, _| {}, f64s);
    for e in &mut wide {
        if e.0 == "input" {
            *e = f64s("input", vec![8, 31], &[0.0; 8 * 31]);
        }
    }
    assert_eq!(code(&wide, Some("mse")), "bundle_shape");
    assert_eq!(code(&bundle(&f, |_, _| {}, f64s), Some("hinge")), "bundle_loss_unknown");
    assert_eq!(
        code(&bundle(&f, |_, _| {}, f64s), Some("cross_entropy")),
        "bundle_target_dtype"
    );
    let mut stray = bundle(&f, |_, _| {}, f64s);
    stray.push(f64s("grad.layers.7.weight", vec![1], &[0.0]));
    assert_eq!(code(&stray, Some("mse")), "bundle_unknown_grad");
    let mut label = bundle(&fixture("deep_batch4_cross_entropy"), |_, _| {}, f64s);
    for e in &mut label {
        if e.0 == "target" {
            *e = i64s("target", vec![4], &[0, 1, 5, 2]);
        }
    }
    assert_eq!(code(&label, Some("cross_entropy")), "bundle_label");
    assert_eq!(check(b"not a bundle").expect_err("refused").code, "st_header_past_end");
}

#[test]
fn gradients_saved_in_f32_are_held_to_a_bar_of_their_own_size() {
    use backprop_lab::model::loss::mse;
    use backprop_lab::model::mlp::{Grads, Mlp, Scope};
    use nalgebra::DMatrix;
    // Part 1's batch with targets 1000 times larger: gradients in the hundreds, whose f32
    // rounding alone is far above 1e-6.
    let f = fixture("batch8_mse");
    let mut mlp = Mlp::<f64>::new(32, &[16, 4], 2, 0);
    for (name, t) in f["params"].as_object().expect("params") {
        let (shape, data) = tensor(t);
        mlp.set_param(name, &shape, &data).expect("a parameter");
    }
    let (x_shape, x) = tensor(&f["x"]);
    let (y_shape, y) = tensor(&f["y"]);
    let y: Vec<f64> = y.iter().map(|v| v * 1000.0).collect();
    let cache = mlp.forward_batch(DMatrix::from_row_slice(8, 32, &x));
    let mut grad_output = DMatrix::zeros(8, 2);
    mse(&cache.output, &DMatrix::from_row_slice(8, 2, &y), &mut grad_output);
    let mut grads = Grads::default();
    mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);
    let mut entries: Vec<Entry> = mlp
        .state_dict()
        .iter()
        .map(|(p, v)| f64s(&p.name, p.shape.clone(), v))
        .collect();
    let linears = grads.layers.iter().chain([&grads.output_layer]);
    let values = linears.flat_map(|g| [g.weight.transpose().as_slice().to_vec(), g.bias.as_slice().to_vec()]);
    for (p, g) in mlp.param_info().iter().zip(values) {
        entries.push(f32s(&format!("grad.{}", p.name), p.shape.clone(), &g));
    }
    entries.push(f64s("input", x_shape, &x));
    entries.push(f64s("target", y_shape, &y));
    let report = check(&write(&entries, Some("mse"))).expect("valid");
    assert!(
        report.rows.iter().any(|r| r.error_norm > 1e-6),
        "f32 rounding shows: {:?}",
        report.rows
    );
    assert!(report.rows.iter().all(|r| r.passed), "{:?}", report.rows);
}

#[test]
fn zero_and_misshapen_gradients_half_precision_and_loose_names() {
    let batch = fixture("batch8_mse");
    let (_, hint) = failing(&write(
        &bundle(&batch, |_, g| g.iter_mut().for_each(|v| *v = 0.0), f64s),
        Some("mse"),
    ));
    assert_eq!(hint, Some(Hint::AllZero), "zero_grad() before saving");
    let mut entries = bundle(&batch, |_, _| {}, f64s);
    for e in &mut entries {
        if e.0 == "grad.layers.0.bias" {
            e.2 = vec![1, 16]; // keepdim=True
        }
    }
    let report = check(&write(&entries, Some("mse"))).expect("valid");
    assert_eq!(
        report.hint,
        Some(Hint::Shape("layers.0.bias".into(), vec![1, 16], vec![16]))
    );
    // Saved in half precision, a right backward passes at that precision's bar.
    let f16s = |name: &str, shape: Vec<usize>, values: &[f64]| -> Entry {
        let bytes = values
            .iter()
            .flat_map(|&v| half::f16::from_f64(v).to_le_bytes())
            .collect();
        (name.to_string(), "F16", shape, bytes)
    };
    let report = check(&write(&bundle(&batch, |_, _| {}, f16s), Some("MSE"))).expect("F16, and MSE in capitals");
    assert!(report.rows.iter().all(|r| r.passed), "{:?}", report.rows);
    assert_eq!((report.dtype.as_str(), report.bar_scales), ("F16", true));
    assert!(report.tolerance > 1e-4);
    // A wrong backward still fails at half precision, with its hint.
    let wrong = write(
        &bundle(&batch, |_, g| g.iter_mut().for_each(|v| *v = -*v), f16s),
        Some("mse"),
    );
    assert!(matches!(failing(&wrong).1, Some(Hint::Scaled(f)) if (f + 1.0).abs() < 1e-2));
    let renamed: Vec<Entry> = bundle(&batch, |_, _| {}, f64s)
        .into_iter()
        .map(|mut e| {
            if let Some(name) = e.0.strip_prefix("grad.") {
                e.0 = format!("{name}.grad");
            }
            e
        })
        .collect();
    assert_eq!(
        check(&write(&renamed, Some("mse"))).expect_err("refused").code,
        "bundle_grad_keys"
    );
    let no_grads: Vec<Entry> = bundle(&batch, |_, _| {}, f64s)
        .into_iter()
        .filter(|e| !e.0.starts_with("grad."))
        .collect();
    assert_eq!(
        check(&write(&no_grads, Some("mse"))).expect_err("refused").code,
        "bundle_no_grads"
    );
}

#[test]
fn a_relu_or_tanh_net_is_checked_with_the_activation_its_metadata_names() {
    for name in ["relu_batch8_mse", "tanh_single_sample_mse"] {
        let f = fixture_in("pytorch-more", name);
        let act = f["activation"].as_str().expect("an activation");
        let entries = bundle(&f, |_, _| {}, f64s);
        let named = write_with(&entries, &format!(r#""loss":"mse","activation":"{act}""#));
        assert_eq!(failing(&named), (vec![], None), "{name}, named {act}");
        // Unnamed, the page takes the notebook's sigmoid: another forward pass, so every
        // gradient differs from its reference.
        let (failed, _) = failing(&write(&entries, Some("mse")));
        assert!(failed.contains(&"layers.0.weight".to_string()), "{name}: {failed:?}");
    }
    let gelu = write_with(
        &bundle(&fixture("batch8_mse"), |_, _| {}, f64s),
        r#""activation":"gelu""#,
    );
    assert_eq!(check(&gelu).unwrap_err().code, "st_unknown_activation");
}

/// dL/dinput for a fixture, row-major, from the page's backward (itself held to central
/// differences by tests/gradcheck.rs).
fn input_gradient(f: &Value) -> Vec<f64> {
    let (mlp, loss) = pytorch_fixtures::model::<f64>(f, "params").expect("a model");
    let x = pytorch_fixtures::tensor(f, "x").and_then(|x| pytorch_fixtures::as_batch::<f64>(&x));
    let cache = mlp.forward_batch(x.expect("an input"));
    let mut grad_output = DMatrix::zeros(0, 0);
    pytorch_fixtures::loss_on(f, loss, &cache.output, &mut grad_output).expect("a loss");
    let mut grads = Grads::default();
    mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);
    grads.input.transpose().as_slice().to_vec()
}

#[test]
fn a_bundle_that_also_holds_grad_input_has_it_checked_as_the_input_row() {
    for name in ["batch8_mse", "seed_part1_single_sample_mse"] {
        let f = fixture(name);
        let (shape, _) = tensor(&f["x"]);
        let right = input_gradient(&f);
        let with = |g: &[f64]| {
            let mut entries = bundle(&f, |_, _| {}, f64s);
            entries.push(f64s("grad.input", shape.clone(), g));
            check(&write(&entries, Some("mse"))).expect("checked, not refused")
        };
        let report = with(&right);
        let input = report.rows.last().expect("rows");
        assert_eq!((input.name.as_str(), &input.shape), ("input", &shape), "{name}");
        assert!(report.rows.iter().all(|r| r.passed), "{name}: {:?}", report.rows);
        let doubled: Vec<f64> = right.iter().map(|g| 2.0 * g).collect();
        let failed: Vec<String> = with(&doubled)
            .rows
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.name.clone())
            .collect();
        assert_eq!(failed, ["input"], "{name}");
    }
    let f = fixture("batch8_mse");
    let report = check(&write(&bundle(&f, |_, _| {}, f64s), Some("mse"))).expect("checked");
    assert!(
        report.rows.iter().all(|r| r.name != "input"),
        "no input row without grad.input"
    );
}

#[test]
fn a_sigmoid_bundle_whose_metadata_says_relu_is_told_its_activation_may_be_wrong() {
    let f = fixture("batch8_mse");
    let entries = bundle(&f, |_, _| {}, f64s);
    let (failed, hint) = failing(&write_with(&entries, r#""loss":"mse","activation":"relu""#));
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert_eq!(hint, Some(Hint::Activation(Some("relu".into()), "sigmoid".into())));
    let relu = fixture_in("pytorch-more", "relu_batch8_mse");
    let (_, hint) = failing(&write(&bundle(&relu, |_, _| {}, f64s), Some("mse")));
    assert_eq!(
        hint,
        Some(Hint::Activation(None, "relu".into())),
        "none named: sigmoid taken"
    );
}

#[test]
fn a_weights_file_given_as_a_bundle_is_sent_to_load_weights() {
    let f = fixture("batch8_mse");
    let params: Vec<Entry> = bundle(&f, |_, _| {}, f64s)
        .into_iter()
        .filter(|e| !e.0.starts_with("grad.") && e.0 != "input" && e.0 != "target")
        .collect();
    assert_eq!(
        check(&write(&params, None)).expect_err("refused").code,
        "bundle_is_weights"
    );
    let mut no_grads = params.clone();
    no_grads.push(f64s("input", vec![32], &[0.0; 32]));
    assert_eq!(
        check(&write(&no_grads, None)).expect_err("refused").code,
        "bundle_no_grads"
    );
}
