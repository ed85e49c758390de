#![cfg(not(target_arch = "wasm32"))]
//! "Inside one step": the panel's cards hold what PyTorch autograd computes on the same
//! weights and sample, and the SGD step it reports is the real one.

use backprop_lab::check::inspect::{inspect, StepView, TensorView};
use backprop_lab::model::bug::Bug;
use backprop_lab::model::mlp::Mlp;
use serde_json::Value;

fn card<'a>(view: &'a StepView, name: &str) -> &'a TensorView {
    let all = view.forward.iter().chain(&view.backward);
    all.clone()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no card {name}: {:?}", all.map(|c| &c.name).collect::<Vec<_>>()))
}

fn numbers(v: &Value) -> Vec<f64> {
    let data = v["data"].as_array().expect("a fixture tensor");
    data.iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn norm(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[test]
fn the_cards_hold_pytorchs_numbers() {
    let text = std::fs::read_to_string("tests/fixtures/pytorch/single_sample_cross_entropy.json").unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    let mut mlp = Mlp::<f64>::new(12, &[6], 4, 0);
    for p in mlp.param_info() {
        let values = numbers(&fixture["params"][&p.name]);
        mlp.set_param(&p.name, &p.shape, &values).unwrap();
    }
    let x = numbers(&fixture["x"]);
    let label = fixture["labels"].as_u64().unwrap() as usize;
    let view = inspect(&mlp, &x, label, Bug::None, 0.01);
    let close = |ours: &[f64], theirs: &[f64], what: &str| {
        assert_eq!(ours.len(), theirs.len(), "{what}");
        let diff: f64 = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(diff <= 1e-12 * norm(theirs).max(1.0), "{what}: off by {diff:e}");
    };
    close(&card(&view, "output").values, &numbers(&fixture["output"]), "output");
    close(
        &card(&view, "grad_output").values,
        &numbers(&fixture["grad_output"]),
        "grad_output",
    );
    let loss = fixture["loss_value"].as_f64().unwrap();
    assert!((card(&view, "loss").values[0] - loss).abs() < 1e-12 && (view.loss - loss).abs() < 1e-12);
    for p in mlp.param_info() {
        let theirs = numbers(&fixture["grads"][&p.name]);
        let ours = card(&view, &format!("{}.grad", p.name));
        close(&ours.values, &theirs, &p.name);
        assert!((ours.norm - norm(&theirs)).abs() < 1e-12, "{}: the norm shown", p.name);
        assert_eq!(ours.shape, p.shape, "PyTorch's shape");
    }
    assert_eq!(card(&view, "input").shape, [1, 12]);
    assert_eq!(card(&view, "layers.0.bias.grad").shape, [6]);
    assert!(card(&view, "loss").shape.is_empty(), "the loss is a scalar");
}

#[test]
fn the_cards_follow_the_notebooks_order_and_chain_for_a_deep_net() {
    let mlp = Mlp::<f32>::new(30, &[8, 7, 5], 10, 4);
    let x: Vec<f32> = (0..30).map(|i| (i % 7) as f32 / 6.0).collect();
    let view = inspect(&mlp, &x, 3, Bug::None, 0.05);
    let names = |cards: &[TensorView]| cards.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(" ");
    assert_eq!(
        names(&view.forward),
        "input fc0 sigmoid0 fc1 sigmoid1 fc2 sigmoid2 output probs loss"
    );
    assert_eq!(
        names(&view.backward),
        "grad_output output_layer.weight.grad output_layer.bias.grad \
         grad_sigmoid2 grad_fc2 layers.2.weight.grad layers.2.bias.grad \
         grad_sigmoid1 grad_fc1 layers.1.weight.grad layers.1.bias.grad \
         grad_sigmoid0 grad_fc0 layers.0.weight.grad layers.0.bias.grad grad_input"
    );
    for l in 0..3 {
        // One sample: bias.grad = grad.sum(0) is dL/dfc itself, and dL/dfc = dL/ds * s(1 - s).
        let grad_fc = &card(&view, &format!("grad_fc{l}")).values;
        assert_eq!(grad_fc, &card(&view, &format!("layers.{l}.bias.grad")).values);
        let s = &card(&view, &format!("sigmoid{l}")).values;
        let grad_s = &card(&view, &format!("grad_sigmoid{l}")).values;
        for ((g, ds), s) in grad_fc.iter().zip(grad_s).zip(s) {
            assert!((g - ds * s * (1.0 - s)).abs() < 1e-15);
        }
    }
    let probs = &card(&view, "probs").values;
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(
        view.predicted,
        probs
            .iter()
            .enumerate()
            .fold(0, |b, (i, p)| if *p > probs[b] { i } else { b })
    );
    let input = card(&view, "input");
    assert_eq!((input.min, input.max), (0.0, 1.0));
    let step = view.sgd.clone().expect("a step");
    assert!(step.loss_after < step.loss_before, "a small step lowers the loss");
    assert_eq!(step.updates.len(), 8);
    let w0 = card(&view, "layers.0.weight.grad");
    assert!(
        (step.updates[0].1 - 0.05 * w0.norm).abs() < 1e-15,
        "lr times the gradient's norm"
    );
}

#[test]
fn a_flipped_grad_output_climbs_and_the_1d_bug_crashes() {
    let mlp = Mlp::<f32>::new(30, &[8], 10, 4);
    let x: Vec<f32> = (0..30).map(|i| (i % 5) as f32 / 4.0).collect();
    let right = inspect(&mlp, &x, 2, Bug::None, 0.05);
    let flipped = inspect(&mlp, &x, 2, Bug::GradOutputSign, 0.05);
    let step = flipped.sgd.clone().expect("a step");
    assert!(step.loss_after > step.loss_before, "ascent");
    let (r, f) = (card(&right, "grad_output"), card(&flipped, "grad_output"));
    assert!(r.values.iter().zip(&f.values).all(|(r, f)| *r == -*f));
    let crashed = inspect(&mlp, &x, 2, Bug::Notebook1dTranspose, 0.05);
    let crash = crashed.crash.expect("the notebook's crash");
    assert_eq!((crash.grad_len, crash.input_len), (10, 8));
    assert!(crashed.sgd.is_none());
    assert_eq!(
        crashed.backward.len(),
        1,
        "only grad_output, before the line that crashes"
    );
}

#[test]
fn the_line_a_bug_writes_wrong_is_marked_and_reads_as_written() {
    let mlp = Mlp::<f32>::new(30, &[8, 6], 10, 4);
    let x: Vec<f32> = (0..30).map(|i| (i % 5) as f32 / 4.0).collect();
    let marked = |bug| {
        let view = inspect(&mlp, &x, 2, bug, 0.05);
        let cards: Vec<&TensorView> = view.forward.iter().chain(&view.backward).filter(|c| c.broken).collect();
        assert!(cards.iter().all(|c| c.code.contains("# bug")), "{bug:?}");
        cards.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(marked(Bug::None), "");
    assert_eq!(marked(Bug::NoSigmoidDerivative), "grad_fc1 grad_fc0");
    assert_eq!(marked(Bug::DerivativeFromFc), "grad_fc1 grad_fc0");
    assert_eq!(
        marked(Bug::BiasMean),
        "output_layer.bias.grad layers.1.bias.grad layers.0.bias.grad"
    );
    assert_eq!(
        marked(Bug::FcAsLayerInput),
        "output_layer.weight.grad layers.1.weight.grad"
    );
    assert_eq!(marked(Bug::GradOutputSign), "grad_output");
    let view = inspect(&mlp, &x, 2, Bug::FcAsLayerInput, 0.05);
    assert!(card(&view, "layers.1.weight.grad").code.contains("grad.T @ fc0"));
    assert!(card(&view, "layers.0.weight.grad").code.contains("grad.T @ input"));
}
