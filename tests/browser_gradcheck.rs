//! The gradient check in a real browser: `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod common;

use backprop_lab::check::gradcheck::CheckCase;
use backprop_lab::model::activation::Activation;
use backprop_lab::model::loss::LossKind;
use common::{assert_a_missing_or_wrong_gradient_fails, assert_passes};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn notebook_part1_single_sample_mse_in_browser() {
    assert_passes(&CheckCase::notebook_part1());
}

#[wasm_bindgen_test]
fn batched_cross_entropy_in_browser() {
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

#[wasm_bindgen_test]
fn a_missing_or_wrong_gradient_fails_its_row_in_browser() {
    assert_a_missing_or_wrong_gradient_fails(&CheckCase::notebook_part1());
    for activation in Activation::ALL {
        assert_a_missing_or_wrong_gradient_fails(&CheckCase {
            batch: Some(3),
            activation,
            ..CheckCase::notebook_part1()
        });
    }
}
