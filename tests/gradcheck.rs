//! The gradient check on the notebook's cases, natively. The same cases run in headless
//! Chromium from `tests/browser_gradcheck.rs`.

mod common;

use backprop_lab::check::gradcheck::{run, CheckCase};
use backprop_lab::model::activation::Activation;
use backprop_lab::model::loss::LossKind;
use common::{assert_a_missing_or_wrong_gradient_fails, assert_passes};

#[test]
fn notebook_part1_single_sample_mse() {
    let case = CheckCase::notebook_part1();
    let report = run(&case).unwrap();
    assert_eq!(report.rows.len(), 7, "six parameter tensors and the input");
    let shapes: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.grad_shape.clone()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("layers.0.weight", vec![16, 32]),
            ("layers.0.bias", vec![16]),
            ("layers.1.weight", vec![4, 16]),
            ("layers.1.bias", vec![4]),
            ("output_layer.weight", vec![2, 4]),
            ("output_layer.bias", vec![2]),
            ("input", vec![32]),
        ],
        "the shapes of the gradients backward computed; a 1-D sample keeps a 1-D input gradient"
    );
    assert_passes(&case);
}

#[test]
fn batched_cross_entropy() {
    for activation in Activation::ALL {
        assert_passes(&CheckCase {
            input_dim: 20,
            hidden_dims: vec![15, 8],
            output_dim: 5,
            loss: LossKind::CrossEntropy,
            batch: Some(6),
            seed: 3,
            activation,
        });
    }
}

#[test]
fn no_hidden_layer_and_deep_nets() {
    for hidden in [vec![], vec![7, 6, 5, 4]] {
        for activation in Activation::ALL {
            assert_passes(&CheckCase {
                input_dim: 9,
                hidden_dims: hidden.clone(),
                output_dim: 3,
                loss: LossKind::Mse,
                batch: Some(4),
                seed: 11,
                activation,
            });
        }
    }
}

#[test]
fn a_missing_or_wrong_gradient_fails_its_row() {
    assert_a_missing_or_wrong_gradient_fails(&CheckCase::notebook_part1());
    for activation in Activation::ALL {
        assert_a_missing_or_wrong_gradient_fails(&CheckCase {
            batch: Some(3),
            activation,
            ..CheckCase::notebook_part1()
        });
    }
}
