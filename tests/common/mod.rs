//! Helpers shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use backprop_lab::check::gradcheck::{run, CheckCase, TOLERANCE};

/// Run a gradient check and fail, naming the tensor, unless every row and the forward
/// pass pass the notebook's bar. Prints the table.
pub fn assert_passes(case: &CheckCase) {
    let report = run(case).expect("a valid case");
    for row in &report.rows {
        println!(
            "{:<22} {:?} error {:.2e} rel {:.2e}",
            row.name, row.shape, row.error_norm, row.max_rel_error
        );
        assert!(row.passed && row.error_norm < TOLERANCE, "{case:?}: {row:?}");
        assert_eq!(row.grad_shape, row.shape, "{case:?}: {row:?}");
    }
    assert!(
        report.output_passed && report.output_error < TOLERANCE,
        "output error {:e}",
        report.output_error
    );
}

/// The check with `layers.0.weight`'s gradient left out, and with one element of
/// `output_layer.bias`'s nudged by 1e-5: both rows fail, every other row passes.
pub fn assert_a_missing_or_wrong_gradient_fails(case: &CheckCase) {
    use backprop_lab::check::gradcheck::run_with;
    let report = run_with(case, backprop_lab::model::bug::Bug::None, |grads| {
        grads.layers[0].weight = nalgebra::DMatrix::zeros(0, 0);
        grads.output_layer.bias[0] += 1e-5;
    })
    .expect("a valid case");
    for row in &report.rows {
        let broken = row.name == "layers.0.weight" || row.name == "output_layer.bias";
        assert_eq!(row.passed, !broken, "{row:?}");
    }
}
