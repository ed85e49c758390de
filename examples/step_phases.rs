//! Where a training step's time goes, natively: each phase timed over an epoch of the
//! notebook's configuration. Prints JSON lines (milliseconds per batch).

use backprop_lab::files::mnist::load_local;
use backprop_lab::model::mlp::Mlp;
use backprop_lab::train::{train_step, Workspace};
use std::time::Instant;

fn main() {
    let (train, _) = load_local();
    let mut mlp = Mlp::<f32>::new(784, &[256], 10, 0);
    let (mut work, mut labels) = (Workspace::default(), Vec::new());
    let mut phases = [0.0f64; 2];
    let names = ["fill_batch", "train_step"];
    let order: Vec<usize> = (0..60_000).map(|i| (i * 7919) % 60_000).collect();
    for (n, batch) in order.chunks_exact(64).enumerate() {
        let mut clock = Instant::now();
        let mut lap = |i: usize| {
            if n >= 20 {
                phases[i] += clock.elapsed().as_secs_f64() * 1000.0;
            }
            clock = Instant::now();
        };
        train.fill_batch(batch, &mut work.cache.input, &mut labels);
        lap(0);
        train_step(&mut mlp, &mut work, &labels, 0.01).expect("no divergence");
        lap(1);
    }
    let batches = (60_000 / 64 - 20) as f64;
    for (name, ms) in names.iter().zip(phases) {
        println!("{{\"phase\":\"{name}\",\"ms_per_batch\":{:.4}}}", ms / batches);
    }
    println!(
        "{{\"phase\":\"total\",\"ms_per_batch\":{:.4}}}",
        phases.iter().sum::<f64>() / batches
    );
}
