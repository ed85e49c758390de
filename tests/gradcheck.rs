//! The gradient check on the seed's cases, natively. The same cases run in headless
//! Chromium from `tests/browser_gradcheck.rs`.

use backprop_lab::gradcheck::{run, CheckCase, TOLERANCE};
use backprop_lab::loss::LossKind;

fn assert_passes(case: &CheckCase) {
    let report = run(case).expect("a valid case");
    for row in &report.rows {
        println!(
            "{:<22} {:?} error {:.2e} rel {:.2e}",
            row.name, row.shape, row.error_norm, row.max_rel_error
        );
        assert!(row.passed && row.error_norm < TOLERANCE, "{case:?}: {row:?}");
    }
    assert!(
        report.output_error < TOLERANCE,
        "output error {:e}",
        report.output_error
    );
}

#[test]
fn seed_part1_single_sample_mse() {
    let case = CheckCase::seed_part1();
    let report = run(&case).unwrap();
    assert_eq!(report.rows.len(), 7, "six parameter tensors and the input");
    assert_eq!(
        report.rows[6].shape,
        vec![32],
        "a 1-D sample keeps a 1-D input gradient"
    );
    assert_passes(&case);
}

#[test]
fn batched_cross_entropy() {
    assert_passes(&CheckCase {
        input_dim: 20,
        hidden_dims: vec![15, 8],
        output_dim: 5,
        loss: LossKind::CrossEntropy,
        batch: Some(6),
        seed: 3,
    });
}

#[test]
fn no_hidden_layer_and_deep_nets() {
    for hidden in [vec![], vec![7, 6, 5, 4]] {
        assert_passes(&CheckCase {
            input_dim: 9,
            hidden_dims: hidden,
            output_dim: 3,
            loss: LossKind::Mse,
            batch: Some(4),
            seed: 11,
        });
    }
}
