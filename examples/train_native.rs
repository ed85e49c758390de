//! A full native run of a preset on the real MNIST files, printing the report CSV.
//! `cargo run --release --example train_native -- [assignment|fast] [epochs] [seed]`

use backprop_lab::files::mnist::load_local;
use backprop_lab::train::{Progress, TrainConfig, Trainer};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut config = match args.next().as_deref() {
        Some("fast") => TrainConfig::fast(),
        _ => TrainConfig::assignment(),
    };
    if let Some(epochs) = args.next().and_then(|e| e.parse().ok()) {
        config.epochs = epochs;
    }
    if let Some(seed) = args.next().and_then(|s| s.parse().ok()) {
        config.seed = seed;
    }
    let (train, test) = load_local();
    let mut trainer = Trainer::new(config, train.len());
    let mut last = Instant::now();
    while !trainer.is_finished() {
        let now = Instant::now();
        let elapsed = (now - last).as_secs_f64() * 1000.0;
        last = now;
        match trainer.step(&train, &test, elapsed) {
            Ok(Progress::EpochDone(s)) => eprintln!(
                "epoch {}: loss {:.4}, test accuracy {:.2}%",
                s.epoch, s.avg_loss, s.test_accuracy
            ),
            Ok(_) => {}
            Err(d) => panic!("diverged: {d:?}"),
        }
    }
    print!("{}", trainer.csv());
}
