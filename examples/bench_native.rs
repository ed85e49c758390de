//! Native throughput of the training step and the evaluation, on the real MNIST files,
//! with the notebook's configuration (and its optimiser swapped for momentum, Nesterov
//! and Adam). Prints JSON lines. `make bench` runs it.

use backprop_lab::bench::{config_with_optimizer, measure_throughput};
use backprop_lab::files::mnist::load_local;
use std::time::Instant;

/// FLOP per sample of a dense 784-256-10 training step: 3 products per layer, 2 FLOP each.
const FLOP_PER_SAMPLE: f64 = 2.0 * (784.0 * 256.0 * 2.0 + 256.0 * 10.0 * 3.0);

fn main() {
    let batches: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(938);
    let (train, test) = load_local();
    let clock = Instant::now();
    let now_ms = || clock.elapsed().as_secs_f64() * 1000.0;
    // A warm-up, then several runs: this machine's speed drifts, so the best and the
    // median say more than one run.
    let sgd = || config_with_optimizer("sgd").expect("SGD");
    measure_throughput(&train, &test, sgd(), 20, now_ms);
    let mut runs: Vec<_> = (0..5)
        .map(|_| measure_throughput(&train, &test, sgd(), batches, now_ms))
        .collect();
    runs.sort_by(|a, b| b.samples_per_s.total_cmp(&a.samples_per_s));
    let (best, median) = (runs[0].samples_per_s, runs[2].samples_per_s);
    println!(
        "{{\"bench\":\"train_step\",\"target\":\"native\",\"batches\":{batches},\"runs\":5,\"samples_per_s_best\":{best:.0},\"samples_per_s_median\":{median:.0},\"epoch_s_best\":{:.3},\"effective_gflop_per_s_best\":{:.1}}}",
        60_000.0 / best,
        best * FLOP_PER_SAMPLE / 1e9
    );
    let mut evals: Vec<f64> = runs.iter().map(|r| r.eval_seconds).collect();
    evals.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\":\"evaluate_10000\",\"target\":\"native\",\"seconds_best\":{:.4},\"seconds_median\":{:.4}}}",
        evals[0], evals[2]
    );
    let kernel = runs.iter().map(|r| r.kernel_gflop_per_s).fold(0.0, f64::max);
    let flop = runs[0].first_layer_flop_per_sample;
    println!(
        "{{\"bench\":\"first_layer_kernel_in_l1\",\"target\":\"native\",\"gflop_per_s_best\":{kernel:.1},\"first_layer_flop_per_sample\":{flop:.0},\"step_bound_samples_per_s\":{:.0}}}",
        kernel * 1e9 / flop
    );
    // The optimisers that keep state take the plain path (every gradient stored, then
    // the update): three runs of each.
    for name in ["momentum", "nesterov", "adam"] {
        let config = || config_with_optimizer(name).expect("a known optimiser");
        let mut rates: Vec<f64> = (0..3)
            .map(|_| measure_throughput(&train, &test, config(), batches, now_ms).samples_per_s)
            .collect();
        rates.sort_by(|a, b| b.total_cmp(a));
        println!(
            "{{\"bench\":\"train_step\",\"optimizer\":\"{name}\",\"target\":\"native\",\"batches\":{batches},\"runs\":3,\"samples_per_s_best\":{:.0},\"samples_per_s_median\":{:.0}}}",
            rates[0], rates[1]
        );
    }
}
