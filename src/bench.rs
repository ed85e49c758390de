//! The figures `make bench` prints: training steps of the Assignment preset back to
//! back, one evaluation of the test set, and the first layer's kernel alone. Not tests:
//! this machine is shared, so timings are printed, never asserted.

use crate::files::mnist::Dataset;
use crate::kernels::{sparse, Nonzeros};
use crate::model::optim::OptimizerKind;
use crate::train::{Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;

/// Throughput of a training configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    pub samples_per_s: f64,
    /// One evaluation of the whole test set
    pub eval_seconds: f64,
    /// The first layer's sparse kernel with its operands in L1 (`measure_kernel`)
    pub kernel_gflop_per_s: f64,
    /// The step's first-layer work: forward product and weight gradient over the inked
    /// pixels, 2 x 2 FLOP per inked pixel per hidden unit, averaged over the training set
    pub first_layer_flop_per_sample: f64,
}

/// The Assignment preset with the optimiser `name` (`sgd`, `momentum`, `nesterov` or
/// `adam`, at Adam's usual lr 0.001), as `make bench` times each.
pub fn config_with_optimizer(name: &str) -> Option<TrainConfig> {
    let (optimizer, learning_rate) = match name {
        "sgd" => (OptimizerKind::PLAIN_SGD, 0.01),
        "momentum" => (OptimizerKind::MOMENTUM, 0.01),
        "nesterov" => (
            OptimizerKind::Sgd {
                momentum: OptimizerKind::DEFAULT_MOMENTUM,
                nesterov: true,
            },
            0.01,
        ),
        "adam" => (OptimizerKind::ADAM, 0.001),
        _ => return None,
    };
    Some(TrainConfig {
        optimizer,
        learning_rate,
        ..TrainConfig::assignment()
    })
}

/// Time `batches` training steps of `config` back to back, then one evaluation of
/// `test`. `now_ms` is the clock (`Instant` natively, `performance.now()` in the browser).
pub fn measure_throughput(
    train: &Dataset,
    test: &Dataset,
    config: TrainConfig,
    batches: usize,
    now_ms: impl Fn() -> f64,
) -> Throughput {
    let (batch_size, hidden) = (config.batch_size, config.hidden_dims[0] as f64);
    let mut trainer = Trainer::new(config, train.len());
    let start = now_ms();
    let mut samples = 0;
    for _ in 0..batches {
        if let Ok(Progress::Batch { .. }) = trainer.step(train, test, 0.0) {
            samples += batch_size;
        }
    }
    let train_ms = now_ms() - start;
    // One training sample, then the evaluation of the whole test set.
    let mut eval = Trainer::new(
        TrainConfig {
            train_limit: Some(1),
            epochs: 1,
            ..TrainConfig::assignment()
        },
        1,
    );
    let _ = eval.step(train, test, 0.0);
    let start = now_ms();
    while !eval.is_finished() {
        let _ = eval.step(train, test, 0.0);
    }
    let eval_seconds = (now_ms() - start) / 1000.0;
    Throughput {
        samples_per_s: samples as f64 / (train_ms / 1000.0),
        eval_seconds,
        kernel_gflop_per_s: measure_kernel(&now_ms),
        first_layer_flop_per_sample: 4.0 * hidden * train.mean_inked_pixels(),
    }
}

/// GFLOP/s of the first layer's forward product ([`sparse::x_wt`]) on a batch of 64
/// samples with 64 inked pixels each, 256 outputs: a panel is 8-16 KiB, so it runs
/// from L1. The training step cannot run its first layer faster than this.
fn measure_kernel(now_ms: &impl Fn() -> f64) -> f64 {
    let (batch, inked, outputs, calls) = (64, 64, 256, 1000);
    let x = DMatrix::<f32>::from_fn(batch, inked, |b, p| ((b + p) % 255 + 1) as f32 / 255.0);
    let w = DMatrix::<f32>::from_fn(outputs, inked, |o, p| ((o + p) % 7) as f32 * 0.01);
    let (mut nonzeros, mut h) = (Nonzeros::default(), DMatrix::zeros(batch, outputs));
    nonzeros.gather(&x);
    let start = now_ms();
    for _ in 0..calls {
        sparse::x_wt(&nonzeros, &w, &mut h);
        std::hint::black_box(&mut h); // read, as far as the compiler knows
    }
    let seconds = (now_ms() - start) / 1000.0;
    (2 * batch * inked * outputs * calls) as f64 / seconds / 1e9
}
