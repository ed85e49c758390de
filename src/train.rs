//! The training loop's state, one small step at a time so the browser can breathe
//! between steps: a step trains one batch, or evaluates one chunk of the test set.
//!
//! Everything uses the hand-written forward and backward of [`Mlp`]; the caller
//! (natively a plain loop, in the browser `web.rs`) decides when to call `step`.

use crate::fields::{parse_count, parse_dims, parse_positive, parse_seed, Problem};
use crate::loss::softmax_cross_entropy;
use crate::mlp::{parameter_count, resize, Cache, Grads, Mlp};
use crate::mnist::{Dataset, CLASSES, IMAGE_PIXELS};
use crate::optim::Sgd;
use crate::sparse::{self, Nonzeros};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Test images per evaluation step: large enough to be efficient, small enough for a frame.
pub const EVAL_CHUNK: usize = 500;
/// Weight of the past in the smoothed loss curve (about the last 50 batches).
const SMOOTHING: f64 = 0.98;
/// A batch loss above this (20x chance level for 10 classes) means training diverged.
const DIVERGED_LOSS: f32 = 46.0;

/// The most weights and biases a model may have (two hidden layers of 4096 fit): 100 MB
/// of them, as much again for their gradients, and a third of a second per batch in the
/// browser. Much more stalls the page while it initialises, and can run out of wasm's 4 GB.
const MAX_PARAMETERS: usize = 25_000_000;

/// The settings a run uses; defaults are the assignment's.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub hidden_dims: Vec<usize>,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    /// Use only the first N training images.
    pub train_limit: Option<usize>,
}

impl TrainConfig {
    /// The seed notebook: 784-[256]-10, SGD lr 0.01, batch 64, 25 epochs.
    pub fn assignment() -> Self {
        TrainConfig {
            hidden_dims: vec![256],
            learning_rate: 0.01,
            batch_size: 64,
            epochs: 25,
            seed: 1,
            train_limit: None,
        }
    }

    /// The same with lr 0.5: over 90% test accuracy after one epoch.
    pub fn fast() -> Self {
        TrainConfig {
            learning_rate: 0.5,
            ..Self::assignment()
        }
    }

    /// Parse the page's fields; `train_limit` empty means the whole training set.
    /// On failure, names the field (`hidden`, `lr`, `batch`, `epochs`, `seed`, `train_limit`).
    pub fn parse(
        hidden: &str,
        lr: &str,
        batch: &str,
        epochs: &str,
        seed: &str,
        train_limit: &str,
    ) -> Result<Self, (&'static str, Problem)> {
        let on = |field| move |p| (field, p);
        let hidden_dims = parse_dims(hidden, 4096).map_err(on("hidden"))?;
        let parameters = parameter_count(IMAGE_PIXELS, &hidden_dims, CLASSES);
        if parameters > MAX_PARAMETERS {
            return Err((
                "hidden",
                Problem::new("too_many_parameters", &[&parameters, &MAX_PARAMETERS]),
            ));
        }
        Ok(TrainConfig {
            hidden_dims,
            learning_rate: parse_positive(lr, 100.0).map_err(on("lr"))?,
            batch_size: parse_count(batch, 1, 4096).map_err(on("batch"))?,
            epochs: parse_count(epochs, 1, 1000).map_err(on("epochs"))?,
            seed: parse_seed(seed).map_err(on("seed"))?,
            train_limit: match train_limit.trim() {
                "" => None,
                text => Some(parse_count(text, 1, 60_000).map_err(on("train_limit"))?),
            },
        })
    }
}

/// One finished epoch: a row of the CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based
    pub epoch: usize,
    /// Mean of the epoch's batch losses, as the seed prints it.
    pub avg_loss: f64,
    /// Percent of the test set classified right.
    pub test_accuracy: f64,
    pub test_loss: f64,
    /// Training time of the epoch, the per-batch yields included, evaluation excluded.
    pub seconds: f64,
    pub samples_per_s: f64,
}

/// Figures for the status line, updated every batch.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveStats {
    pub smoothed_loss: f64,
    /// This epoch's training samples per second so far
    pub samples_per_s: f64,
    /// Training time of the whole run (pauses excluded)
    pub elapsed_s: f64,
    /// 1-based epoch in progress (or the last one, when finished)
    pub epoch: usize,
    pub epochs: usize,
}

/// What one call to [`Trainer::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Trained batch `batch` (1-based) of `batches` in epoch `epoch` (1-based).
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        loss: f32,
    },
    /// Evaluated `done` of `total` test images after epoch `epoch`.
    Evaluating { epoch: usize, done: usize, total: usize },
    /// Epoch finished and evaluated.
    EpochDone(EpochStats),
    /// All epochs are done; further steps do nothing.
    Finished,
}

/// Why training stopped on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    pub epoch: usize,
    pub batch: usize,
    pub loss: f32,
}

enum Phase {
    Training,
    Evaluating { done: usize, correct: usize, loss_sum: f64 },
    Finished,
    Failed,
}

/// A training run: the model, the data order, and the running statistics.
pub struct Trainer {
    pub config: TrainConfig,
    pub mlp: Mlp<f32>,
    pub history: Vec<EpochStats>,
    sgd: Sgd,
    rng: StdRng,
    order: Vec<usize>,
    phase: Phase,
    /// 0-based epoch and next batch within it
    epoch: usize,
    next_batch: usize,
    epoch_loss_sum: f64,
    epoch_ms: f64,
    total_ms: f64,
    /// Whether the previous step trained a batch (its time then counts as training).
    previous_step_trained: bool,
    /// Exponential moving average of batch losses, bias-corrected (as Adam does).
    loss_average: f64,
    loss_average_weight: f64,
    // Buffers reused every batch: nothing is allocated per step.
    cache: Cache<f32>,
    grads: Grads<f32>,
    grad_output: DMatrix<f32>,
    labels: Vec<usize>,
    eval_cache: Cache<f32>,
    eval_grad: DMatrix<f32>,
    eval_indices: Vec<usize>,
}

impl Trainer {
    pub fn new(config: TrainConfig, train_size: usize) -> Self {
        let mlp = Mlp::new(IMAGE_PIXELS, &config.hidden_dims, CLASSES, config.seed);
        let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(0x5eed));
        let used = config.train_limit.map_or(train_size, |n| n.min(train_size));
        let mut order: Vec<usize> = (0..used).collect();
        order.shuffle(&mut rng);
        Trainer {
            cache: mlp.new_cache(config.batch_size),
            grads: mlp.new_grads(),
            grad_output: DMatrix::zeros(config.batch_size, CLASSES),
            labels: Vec::with_capacity(config.batch_size),
            eval_cache: mlp.new_cache(EVAL_CHUNK),
            eval_grad: DMatrix::zeros(EVAL_CHUNK, CLASSES),
            eval_indices: Vec::with_capacity(EVAL_CHUNK),
            sgd: Sgd {
                learning_rate: config.learning_rate,
            },
            mlp,
            history: Vec::new(),
            rng,
            order,
            phase: Phase::Training,
            epoch: 0,
            next_batch: 0,
            epoch_loss_sum: 0.0,
            epoch_ms: 0.0,
            total_ms: 0.0,
            previous_step_trained: false,
            loss_average: 0.0,
            loss_average_weight: 0.0,
            config,
        }
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.config.batch_size)
    }

    /// No batch has been trained yet: the weights are the random initialisation.
    pub fn is_untrained(&self) -> bool {
        self.epoch == 0 && self.next_batch == 0
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished | Phase::Failed)
    }

    /// Do one unit of work. `elapsed_ms` is the wall time since the previous step of
    /// this run began: that step and the yield after it. When that step trained a batch,
    /// it counts as the epoch's training time (an evaluation chunk does not).
    pub fn step(&mut self, train: &Dataset, test: &Dataset, elapsed_ms: f64) -> Result<Progress, Diverged> {
        if self.previous_step_trained {
            self.epoch_ms += elapsed_ms;
            self.total_ms += elapsed_ms;
        }
        self.previous_step_trained = matches!(self.phase, Phase::Training);
        match self.phase {
            Phase::Training => self.train_batch(train),
            Phase::Evaluating { .. } => Ok(self.evaluate_chunk(test)),
            Phase::Finished | Phase::Failed => Ok(Progress::Finished),
        }
    }

    fn train_batch(&mut self, train: &Dataset) -> Result<Progress, Diverged> {
        let batches = self.batches_per_epoch();
        let start = self.next_batch * self.config.batch_size;
        let end = (start + self.config.batch_size).min(self.order.len());
        let cache = &mut self.cache;
        train.fill_batch(
            &self.order[start..end],
            &mut cache.input,
            &mut cache.input_nonzeros,
            &mut self.labels,
        );
        self.mlp.forward_cached(&mut self.cache);
        resize(&mut self.grad_output, end - start, CLASSES);
        let loss = softmax_cross_entropy(&self.cache.output, &self.labels, &mut self.grad_output);
        self.next_batch += 1;
        if !loss.is_finite() || loss > DIVERGED_LOSS {
            self.phase = Phase::Failed;
            return Err(Diverged {
                epoch: self.epoch + 1,
                batch: self.next_batch,
                loss,
            });
        }
        self.mlp
            .backward_step(&self.cache, &self.grad_output, &mut self.grads, &self.sgd);
        self.epoch_loss_sum += loss as f64;
        self.loss_average = SMOOTHING * self.loss_average + (1.0 - SMOOTHING) * loss as f64;
        self.loss_average_weight = SMOOTHING * self.loss_average_weight + (1.0 - SMOOTHING);
        if self.next_batch == batches {
            self.phase = Phase::Evaluating {
                done: 0,
                correct: 0,
                loss_sum: 0.0,
            };
        }
        Ok(Progress::Batch {
            epoch: self.epoch + 1,
            batch: self.next_batch,
            batches,
            loss,
        })
    }

    fn evaluate_chunk(&mut self, test: &Dataset) -> Progress {
        let batches = self.batches_per_epoch();
        let Phase::Evaluating {
            done,
            correct,
            loss_sum,
        } = &mut self.phase
        else {
            unreachable!("evaluate_chunk runs only while evaluating");
        };
        let end = (*done + EVAL_CHUNK).min(test.len());
        self.eval_indices.clear();
        self.eval_indices.extend(*done..end);
        let indices = &self.eval_indices;
        let cache = &mut self.eval_cache;
        test.fill_batch(indices, &mut cache.input, &mut cache.input_nonzeros, &mut self.labels);
        self.mlp.forward_cached(&mut self.eval_cache);
        resize(&mut self.eval_grad, indices.len(), CLASSES);
        let chunk_loss = softmax_cross_entropy(&self.eval_cache.output, &self.labels, &mut self.eval_grad);
        *loss_sum += chunk_loss as f64 * indices.len() as f64;
        *correct += predicted_classes(&self.eval_cache.output)
            .zip(&self.labels)
            .filter(|(p, &y)| *p == y)
            .count();
        *done = end;
        if end < test.len() {
            return Progress::Evaluating {
                epoch: self.epoch + 1,
                done: end,
                total: test.len(),
            };
        }
        let seconds = self.epoch_ms / 1000.0;
        let stats = EpochStats {
            epoch: self.epoch + 1,
            avg_loss: self.epoch_loss_sum / batches as f64,
            test_accuracy: 100.0 * *correct as f64 / test.len() as f64,
            test_loss: *loss_sum / test.len() as f64,
            seconds,
            samples_per_s: if seconds > 0.0 {
                self.order.len() as f64 / seconds
            } else {
                0.0
            },
        };
        self.history.push(stats.clone());
        self.epoch += 1;
        self.next_batch = 0;
        self.epoch_loss_sum = 0.0;
        self.epoch_ms = 0.0;
        self.order.shuffle(&mut self.rng);
        self.phase = if self.epoch == self.config.epochs {
            Phase::Finished
        } else {
            Phase::Training
        };
        Progress::EpochDone(stats)
    }

    /// Live figures for the status line.
    pub fn live(&self) -> LiveStats {
        let samples = (self.next_batch * self.config.batch_size).min(self.order.len());
        LiveStats {
            smoothed_loss: if self.loss_average_weight > 0.0 {
                self.loss_average / self.loss_average_weight
            } else {
                f64::NAN
            },
            samples_per_s: if self.epoch_ms > 0.0 {
                samples as f64 / (self.epoch_ms / 1000.0)
            } else {
                0.0
            },
            elapsed_s: self.total_ms / 1000.0,
            epoch: self.epoch + usize::from(!self.is_finished()),
            epochs: self.config.epochs,
        }
    }

    /// End the run early; the model and history stay.
    pub fn stop(&mut self) {
        self.phase = Phase::Finished;
    }

    /// The CSV for a report: one row per finished epoch.
    pub fn csv(&self) -> String {
        let mut out = String::from("epoch,avg_loss,test_accuracy,seconds,samples_per_s\n");
        for s in &self.history {
            out += &format!(
                "{},{:.6},{:.2},{:.3},{:.0}\n",
                s.epoch, s.avg_loss, s.test_accuracy, s.seconds, s.samples_per_s
            );
        }
        out
    }
}

/// Throughput of the seed's configuration, for the benchmark command.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    pub samples_per_s: f64,
    /// One evaluation of the whole test set
    pub eval_seconds: f64,
    /// The first layer's sparse kernel with its operands in L1 (see [`measure_kernel`])
    pub kernel_gflop_per_s: f64,
    /// The step's first-layer work: forward product and weight gradient over the inked
    /// pixels, 2 x 2 FLOP per inked pixel per hidden unit, averaged over the training set
    pub first_layer_flop_per_sample: f64,
}

/// Time `batches` training steps of the Assignment preset back to back, then one
/// evaluation of `test`. `now_ms` is the clock (`Instant` natively, `performance.now()`
/// in the browser).
pub fn measure_throughput(train: &Dataset, test: &Dataset, batches: usize, now_ms: impl Fn() -> f64) -> Throughput {
    let config = TrainConfig::assignment();
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

/// The arg-max class of each row of logits (B, classes).
pub fn predicted_classes(logits: &DMatrix<f32>) -> impl Iterator<Item = usize> + '_ {
    logits.row_iter().map(|row| row.transpose().imax())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten separable "digits": class c lights up a block of pixels of its own, plus noise.
    pub(crate) fn synthetic(count: usize, salt: u64) -> Dataset {
        let mut rng = StdRng::seed_from_u64(salt);
        let mut pixels = vec![0u8; count * IMAGE_PIXELS];
        let labels: Vec<u8> = (0..count).map(|i| (i % CLASSES) as u8).collect();
        for (i, &label) in labels.iter().enumerate() {
            let image = &mut pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
            for (p, v) in image.iter_mut().enumerate() {
                let on = p / 78 == label as usize;
                *v = if on {
                    200
                } else {
                    rand::Rng::random_range(&mut rng, 0..60)
                };
            }
        }
        Dataset::new("synthetic", pixels, "synthetic", labels).unwrap()
    }

    fn run(config: TrainConfig) -> Trainer {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let mut trainer = Trainer::new(config, train.len());
        while !trainer.is_finished() {
            trainer.step(&train, &test, 1.0).expect("no divergence");
        }
        trainer
    }

    fn small(lr: f64) -> TrainConfig {
        TrainConfig {
            hidden_dims: vec![16],
            learning_rate: lr,
            batch_size: 32,
            epochs: 3,
            seed: 9,
            train_limit: None,
        }
    }

    #[test]
    fn epoch_time_counts_training_steps_only() {
        let (train, test) = (synthetic(300, 1), synthetic(1200, 2));
        let mut trainer = Trainer::new(small(0.5), train.len());
        // The time since the previous step began: 1 ms after a batch, 100 ms after an
        // evaluation chunk (1,200 test images: three chunks an epoch).
        let mut elapsed = 0.0;
        while !trainer.is_finished() {
            let progress = trainer.step(&train, &test, elapsed).expect("no divergence");
            elapsed = if matches!(progress, Progress::Batch { .. }) {
                1.0
            } else {
                100.0
            };
        }
        let seconds: Vec<f64> = trainer.history.iter().map(|s| s.seconds).collect();
        assert_eq!(seconds, vec![0.010; 3], "10 batches of 1 ms each, every epoch");
    }

    #[test]
    fn loss_falls_and_accuracy_rises() {
        let trainer = run(small(0.5));
        let h = &trainer.history;
        assert_eq!(h.len(), 3);
        assert!(h[2].avg_loss < h[0].avg_loss, "{h:?}");
        assert!(h[2].test_accuracy > 50.0, "{h:?}");
        assert_eq!(h[0].seconds, 10.0 / 1000.0, "10 batches of 1 ms each");
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let a = run(small(0.5));
        let b = run(small(0.5));
        assert_eq!(a.mlp, b.mlp);
        assert_eq!(a.history, b.history);
        let c = run(TrainConfig { seed: 10, ..small(0.5) });
        assert_ne!(a.mlp, c.mlp);
    }

    #[test]
    fn divergence_is_reported_not_hidden() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let mut trainer = Trainer::new(small(100.0), train.len());
        let outcome = (0..40).try_for_each(|_| trainer.step(&train, &test, 1.0).map(drop));
        let diverged = outcome.expect_err("lr 100 must diverge");
        assert!(!diverged.loss.is_finite() || diverged.loss > DIVERGED_LOSS);
        assert!(trainer.is_finished());
    }

    #[test]
    fn csv_has_one_row_per_epoch() {
        let csv = run(small(0.5)).csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "epoch,avg_loss,test_accuracy,seconds,samples_per_s");
        assert_eq!(lines.len(), 4);
        let fields: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[0], "1");
        assert!(fields.iter().all(|f| f.parse::<f64>().is_ok()), "{}", lines[1]);
        assert_eq!(fields[3], "0.010", "seconds");
        assert_eq!(fields[4], "30000", "300 samples in 10 ms");
    }

    #[test]
    fn config_parse_names_the_field() {
        let ok = TrainConfig::parse("256", "0.01", "64", "25", "1", "").unwrap();
        assert_eq!(ok, TrainConfig::assignment());
        let field = |h, lr, b, e| TrainConfig::parse(h, lr, b, e, "1", "").unwrap_err().0;
        assert_eq!(field("256,,x", "0.01", "64", "1"), "hidden");
        assert_eq!(field("256", "0", "64", "1"), "lr");
        assert_eq!(field("256", "abc", "64", "1"), "lr");
        assert_eq!(field("256", "0.1", "0", "1"), "batch");
        assert_eq!(field("256", "0.1", "64", "0"), "epochs");
        // 785 x 4096 + 2 x 4097 x 4096 + 4097 x 10 parameters
        let (name, problem) = TrainConfig::parse("4096,4096,4096", "0.1", "64", "1", "1", "").unwrap_err();
        assert_eq!((name, problem.code), ("hidden", "too_many_parameters"));
        assert_eq!(problem.args[0], "36818954");
        assert!(
            TrainConfig::parse("4096,4096", "0.1", "64", "1", "1", "").is_ok(),
            "20 million is fine"
        );
    }
}
