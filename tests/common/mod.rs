//! Helpers shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use backprop_lab::gradcheck::{run, CheckCase, TOLERANCE};

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
