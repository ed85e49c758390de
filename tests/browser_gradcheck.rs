//! The gradient check in a real browser: `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use backprop_lab::gradcheck::{run, CheckCase, TOLERANCE};
use backprop_lab::loss::LossKind;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn assert_passes(case: &CheckCase) {
    let report = run(case).expect("a valid case");
    assert!(
        report.output_error < TOLERANCE,
        "output error {:e}",
        report.output_error
    );
    for row in &report.rows {
        assert!(row.passed && row.error_norm < TOLERANCE, "{case:?}: {row:?}");
    }
}

#[wasm_bindgen_test]
fn seed_part1_single_sample_mse_in_browser() {
    assert_passes(&CheckCase::seed_part1());
}

#[wasm_bindgen_test]
fn batched_cross_entropy_in_browser() {
    assert_passes(&CheckCase {
        input_dim: 20,
        hidden_dims: vec![15, 8],
        output_dim: 5,
        loss: LossKind::CrossEntropy,
        batch: Some(6),
        seed: 3,
    });
}
