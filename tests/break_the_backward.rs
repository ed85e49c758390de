//! "Break the backward": each classic mistake fails the gradient check on exactly the
//! tensors it touches, and passes the rest.

use backprop_lab::check::gradcheck::{run_with, CheckCase, CheckReport, SPOT_ENTRIES, TOLERANCE};
use backprop_lab::model::activation::Activation;
use backprop_lab::model::bug::Bug;
use backprop_lab::model::loss::{softmax_cross_entropy, LossKind};
use backprop_lab::model::mlp::{Grads, Mlp, Scope};
use nalgebra::DMatrix;

/// Whether `bug` must spoil the tensor `name` (a parameter, or `input` for dL/dinput) in
/// a net whose hidden layers use `act`.
fn must_fail(bug: Bug, act: Activation, name: &str, batch: usize) -> bool {
    let hidden = name.starts_with("layers.") || name == "input";
    let bias = name.ends_with(".bias");
    let weight = name.ends_with(".weight");
    match bug {
        Bug::None | Bug::Notebook1dTranspose => false,
        Bug::NoSigmoidDerivative => hidden,
        // ReLU's derivative reads the same from fc and from relu(fc).
        Bug::DerivativeFromFc => hidden && act != Activation::Relu,
        // The sigmoid's derivative is right only for sigmoid.
        Bug::SigmoidDerivative => hidden && act != Activation::Sigmoid,
        // The mean of one sample is the sample: with a batch of one, nothing changes.
        Bug::BiasMean => bias && batch > 1,
        Bug::FcAsLayerInput => weight && name != "layers.0.weight",
        Bug::GradOutputSign => true,
    }
}

fn assert_fails_exactly(case: &CheckCase, bug: Bug, report: &CheckReport) {
    let batch = case.batch.unwrap_or(1);
    assert!(report.output_passed, "the forward pass is untouched");
    assert!(!report.rows.is_empty());
    for row in &report.rows {
        let expected = must_fail(bug, case.activation, &row.name, batch);
        println!("{:<24} {:<22} error {:.2e}", bug.code(), row.name, row.error_norm);
        assert_eq!(!row.passed, expected, "{bug:?} on {case:?}: {row:?}");
    }
}

fn part1(batch: Option<usize>) -> CheckCase {
    CheckCase {
        batch,
        ..CheckCase::notebook_part1()
    }
}

#[test]
fn each_bug_fails_exactly_its_tensors_in_the_notebooks_part_1_and_a_deep_net_for_every_activation() {
    let deep = CheckCase {
        input_dim: 20,
        hidden_dims: vec![15, 12, 9],
        output_dim: 5,
        loss: LossKind::CrossEntropy,
        batch: Some(4),
        seed: 3,
        activation: Activation::Sigmoid,
    };
    let cases = [part1(None), part1(Some(8)), deep];
    let every_activation = Activation::ALL.into_iter().flat_map(|activation| {
        cases.iter().map(move |case| CheckCase {
            activation,
            ..case.clone()
        })
    });
    for case in every_activation {
        for bug in Bug::ALL {
            let report = run_with(&case, bug, |_| {}).expect("a valid case");
            let crashes = bug == Bug::Notebook1dTranspose && case.batch.is_none();
            if crashes {
                let crash = report.crash.expect("the 1-D crash");
                assert!(report.rows.is_empty());
                // Part 1's output layer: grad (2,) against sigmoid1 (4,).
                assert_eq!((crash.grad_len, crash.input_len), (2, 4));
                assert!(crash.pytorch_message().contains("expected tensor [2] and src [4]"));
            } else {
                assert_eq!(report.crash, None);
                assert_fails_exactly(&case, bug, &report);
            }
        }
    }
}

/// 784-[256]-10 is too large for central differences on every weight, so each tensor
/// of the broken pass is compared with the right pass's, itself checked against
/// finite differences and PyTorch in the other tests, at the same bar.
#[test]
fn each_bug_fails_exactly_its_tensors_on_the_mnist_net() {
    for act in Activation::ALL {
        each_bug_on_the_mnist_net(act);
    }
}

fn each_bug_on_the_mnist_net(act: Activation) {
    let mlp = Mlp::<f64>::new(784, &[256], 10, 5).with_activation(act);
    let x = DMatrix::from_fn(3, 784, |r, c| ((r * 131 + c * 7) % 17) as f64 / 16.0);
    let labels = [3, 7, 1];
    let cache = mlp.forward_batch(x);
    let mut grad_output = DMatrix::zeros(3, 10);
    softmax_cross_entropy(&cache.output, &labels, &mut grad_output);
    let backward = |bug: Bug| {
        let mut grads = Grads::default();
        bug.backward(&mlp, &cache, &grad_output, &mut grads, Scope::Full);
        grads
    };
    let right = backward(Bug::None);
    let names = mlp
        .param_info()
        .into_iter()
        .map(|p| p.name)
        .chain(["input".to_string()]);
    let tensors = |g: &Grads<f64>| -> Vec<Vec<f64>> {
        g.params()
            .map(<[f64]>::to_vec)
            .chain([g.input.as_slice().to_vec()])
            .collect()
    };
    for bug in Bug::ALL {
        let broken = backward(bug);
        for (name, (b, r)) in names.clone().zip(tensors(&broken).iter().zip(tensors(&right))) {
            let error = b.iter().zip(&r).map(|(b, r)| (b - r).powi(2)).sum::<f64>().sqrt();
            let failed = error >= TOLERANCE;
            assert_eq!(
                failed,
                must_fail(bug, act, &name, 3),
                "{bug:?} {act:?}: {name} error {error:e}"
            );
        }
    }
}

/// The notebook's own Part 2 net, 784-[256]-10, one sample: too large to check every
/// entry in the page's time, so it is spot-checked (`grad_check_sparse` of Stanford's cs231n).
fn notebook_part2(loss: LossKind, batch: Option<usize>) -> CheckCase {
    CheckCase {
        input_dim: 784,
        hidden_dims: vec![256],
        output_dim: 10,
        loss,
        batch,
        seed: 5,
        activation: Activation::Sigmoid,
    }
}

#[test]
fn the_notebooks_784_256_10_is_spot_checked_and_each_bug_fails_exactly_its_tensors() {
    for case in [
        notebook_part2(LossKind::CrossEntropy, Some(4)),
        notebook_part2(LossKind::Mse, None),
    ] {
        for bug in Bug::ALL {
            let report = run_with(&case, bug, |_| {}).expect("spot-checked, not refused");
            assert_eq!(report.spot, Some(SPOT_ENTRIES), "{case:?}");
            if bug == Bug::Notebook1dTranspose && case.batch.is_none() {
                assert!(report.crash.is_some());
                continue;
            }
            assert_fails_exactly(&case, bug, &report);
            for row in &report.rows {
                let entries: usize = row.shape.iter().product();
                assert_eq!(row.checked, SPOT_ENTRIES.min(entries), "{row:?}");
                assert_eq!(row.worst.len(), row.shape.len(), "the worst entry is named: {row:?}");
                assert!(row.worst.iter().zip(&row.shape).all(|(i, n)| i < n), "{row:?}");
            }
        }
    }
    // A small net is still checked in full.
    let full = run_with(&part1(Some(8)), Bug::None, |_| {}).expect("a valid case");
    assert_eq!(full.spot, None);
    assert_eq!(full.rows[0].checked, 16 * 32, "every entry of layers.0.weight");
}
