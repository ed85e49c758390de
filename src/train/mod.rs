//! The training loop's state, one small step at a time so the browser can breathe
//! between steps: a step trains one batch, or evaluates one chunk of the test set.
//!
//! Everything uses the hand-written forward and backward of [`Mlp`]; the caller
//! (natively a plain loop, in the browser `web`) decides when to call `step`.

pub mod evaluate;

use crate::files::mnist::{Dataset, CLASSES, IMAGE_PIXELS};
use crate::kernels::{resize, sparse};
use crate::model::activation::Activation;
use crate::model::bug::Bug;
use crate::model::loss::softmax_cross_entropy;
use crate::model::mlp::{Cache, Grads, Input, Mlp, Scope};
use crate::model::optim::{sgd, sgd_step, Optimizer, OptimizerKind};
use crate::train::evaluate::Evaluation;
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Weight of the past in the smoothed loss curve (about the last 50 batches).
const SMOOTHING: f64 = 0.98;
/// A batch loss above this (20x chance level for 10 classes) means training diverged.
pub const DIVERGED_LOSS: f32 = 46.0;

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
    /// The backward pass's line written wrong, to see what it does to learning.
    pub bug: Bug,
    /// The hidden layers' activation.
    pub activation: Activation,
    /// `torch.optim.SGD` (with momentum or not) or `torch.optim.Adam`.
    pub optimizer: OptimizerKind,
    /// L2 weight decay, added to the gradient as `torch.optim` does.
    pub weight_decay: f64,
}

impl TrainConfig {
    /// The notebook's: `784-[256]-10`, SGD lr 0.01, batch 64, 25 epochs.
    pub fn assignment() -> Self {
        TrainConfig {
            hidden_dims: vec![256],
            learning_rate: 0.01,
            batch_size: 64,
            epochs: 25,
            seed: 1,
            train_limit: None,
            bug: Bug::None,
            activation: Activation::Sigmoid,
            optimizer: OptimizerKind::PLAIN_SGD,
            weight_decay: 0.0,
        }
    }

    /// Four sigmoid layers of 256 at lr 0.1: the vanishing gradient, in the flow chart.
    pub fn deep_sigmoid() -> Self {
        TrainConfig {
            hidden_dims: vec![256; 4],
            learning_rate: 0.1,
            epochs: 5,
            ..Self::assignment()
        }
    }

    /// The same with lr 0.5: over 90% test accuracy after one epoch.
    pub fn fast() -> Self {
        TrainConfig {
            learning_rate: 0.5,
            ..Self::assignment()
        }
    }

    /// What most people train with today: ReLU and `torch.optim.Adam(lr=0.001)`.
    pub fn relu_adam() -> Self {
        TrainConfig {
            learning_rate: 0.001,
            activation: Activation::Relu,
            optimizer: OptimizerKind::ADAM,
            ..Self::assignment()
        }
    }

    /// The optimiser these settings describe, before its first step.
    pub fn new_optimizer(&self) -> Optimizer<f32> {
        Optimizer::new(self.optimizer, self.learning_rate, self.weight_decay)
    }
}

/// One finished epoch: a row of the CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based
    pub epoch: usize,
    /// Mean of the epoch's batch losses, as the notebook prints it.
    pub avg_loss: f64,
    /// Percent of the test set classified right.
    pub test_accuracy: f64,
    pub test_loss: f64,
    /// Training time of the epoch, the per-batch yields included, evaluation excluded.
    pub seconds: f64,
    pub samples_per_s: f64,
}

impl EpochStats {
    /// Numbers in a row: epoch, avg loss, test accuracy, test loss, seconds, samples/s.
    pub const ROW: usize = 6;

    /// The epoch as a row of [`ROW`](Self::ROW) numbers, as a save keeps it.
    pub fn to_row(&self) -> [f64; Self::ROW] {
        [
            self.epoch as f64,
            self.avg_loss,
            self.test_accuracy,
            self.test_loss,
            self.seconds,
            self.samples_per_s,
        ]
    }

    /// An epoch from a row of [`ROW`](Self::ROW) numbers (missing ones read as 0).
    pub fn from_row(row: &[f64]) -> Self {
        let at = |i: usize| row.get(i).copied().unwrap_or(0.0);
        EpochStats {
            epoch: at(0) as usize,
            avg_loss: at(1),
            test_accuracy: at(2),
            test_loss: at(3),
            seconds: at(4),
            samples_per_s: at(5),
        }
    }
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
        /// The gradient flow, on the batches that record it.
        flow: Option<GradFlow>,
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

#[derive(Debug)]
enum Phase {
    Training,
    Evaluating,
    Finished,
    Failed,
}

/// What a training step computes into, reused batch after batch: nothing is allocated
/// per step.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The batch (`cache.input`) and what the forward pass keeps.
    pub cache: Cache<f32>,
    pub grads: Grads<f32>,
    /// dL/doutput: (B, classes)
    pub grad_output: DMatrix<f32>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            cache: Cache::of(Input::Dense(DMatrix::zeros(0, 0))),
            grads: Grads::default(),
            grad_output: DMatrix::zeros(0, 0),
        }
    }
}

/// One pass of the notebook's training loop over the batch in `work.cache.input`:
/// `output = model(x)`, `loss = criterion(output, y)`, `loss.backward()`,
/// `optimizer.step()`. Returns the batch's loss, or `Err(loss)` when it diverged (NaN,
/// or above [`DIVERGED_LOSS`]): the weights are then left as they were.
///
/// On a sparse batch (MNIST) the first layer's weight gradient, the largest tensor, is
/// applied as it is summed over the inked pixels and never stored: the weights end
/// exactly as after `backward` then `sgd_step` (tested to the bit).
pub fn train_step(mlp: &mut Mlp<f32>, work: &mut Workspace, labels: &[usize], learning_rate: f32) -> Result<f32, f32> {
    let Workspace {
        cache,
        grads,
        grad_output,
    } = work;
    mlp.forward(cache); // output = model(x)
    resize(grad_output, labels.len(), mlp.output_dim());
    let loss = softmax_cross_entropy(&cache.output, labels, grad_output); // loss = criterion(output, y)
    if !loss.is_finite() || loss > DIVERGED_LOSS {
        return Err(loss);
    }
    match &cache.input {
        Input::Dense(_) => {
            mlp.backward(cache, grad_output, grads, Scope::Full); // loss.backward()
            sgd_step(mlp, grads, learning_rate); // optimizer.step()
        }
        Input::Sparse(x) => {
            mlp.backward(cache, grad_output, grads, Scope::AllButFirstWeight); // loss.backward(), but layers.0.weight
            let first_grad = grads.fc.first().unwrap_or(grad_output); // dL/dfc0
            let first = mlp.layers.first_mut().unwrap_or(&mut mlp.output_layer);
            sparse::gt_x_descend(first_grad, x, &mut first.weight, learning_rate); // optimizer.step(), layers.0.weight
            for (param, grad) in mlp.params_mut().zip(grads.params()).skip(1) {
                sgd(param, grad, learning_rate); // optimizer.step(), the rest
            }
        }
    }
    Ok(loss)
}

/// [`train_step`] on the plain path, every gradient kept in `work.grads`: forward, loss,
/// `bug.backward` (`Mlp::backward` for `Bug::None`), then `optimizer.step()`.
pub fn train_step_plain(
    mlp: &mut Mlp<f32>,
    work: &mut Workspace,
    labels: &[usize],
    optimizer: &mut Optimizer<f32>,
    bug: Bug,
) -> Result<f32, f32> {
    let Workspace {
        cache,
        grads,
        grad_output,
    } = work;
    mlp.forward(cache);
    resize(grad_output, labels.len(), mlp.output_dim());
    let loss = softmax_cross_entropy(&cache.output, labels, grad_output);
    if !loss.is_finite() || loss > DIVERGED_LOSS {
        return Err(loss);
    }
    bug.backward(mlp, cache, grad_output, grads, Scope::Params); // loss.backward(), or a broken one
    optimizer.step(mlp, grads);
    Ok(loss)
}

/// Batches between two gradient-flow records, at most: an epoch records every fifth of
/// itself (at least every 10th batch), so that a short one's chart has points too. A
/// record costs about two steps (the weights' norms), so full MNIST's every 187th batch
/// costs about 1%.
pub const GRAD_FLOW_EVERY: usize = 200;

/// Batches between two records in an epoch of `batches`.
fn grad_flow_interval(batches: usize) -> usize {
    (batches / 5).clamp(10, GRAD_FLOW_EVERY)
}

/// How the gradient flowed through each layer on one batch: `layers.{i}` then
/// `output_layer`.
#[derive(Clone, Debug, PartialEq)]
pub struct GradFlow {
    /// Fractional epoch of the batch, as the loss chart's x.
    pub x: f64,
    /// `||dL/dW_i||_2`
    pub grad_norms: Vec<f64>,
    /// `||W_i after - W_i before||_2 / ||W_i||_2`: how far the step moved the weights (for
    /// plain SGD, `||lr * dL/dW_i|| / ||W_i||`).
    pub update_ratios: Vec<f64>,
}

impl GradFlow {
    /// From the step just taken in `work`. The fused step never stores the first layer's
    /// weight gradient `G^T X`; its norm comes from `||G^T X||^2 = sum((G G^T) . (X X^T))`,
    /// two B x B products instead of an (out x in) one.
    /// `before`: each layer's weight before the step.
    fn of(mlp: &Mlp<f32>, before: &[DMatrix<f32>], work: &Workspace, x: f64) -> Self {
        let norm = |m: &DMatrix<f32>| m.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
        let weights = mlp.layers.iter().chain([&mlp.output_layer]).map(|l| &l.weight);
        let grads = &work.grads;
        let fused = matches!(work.cache.input, Input::Sparse(_));
        let grad_norms = grads
            .layers
            .iter()
            .chain([&grads.output_layer])
            .enumerate()
            .map(|(l, g)| {
                if l > 0 || !fused {
                    return norm(&g.weight);
                }
                let g = grads.fc.first().unwrap_or(&work.grad_output); // dL/dfc0: (B, out)
                let input = work.cache.input.to_dense(); // (B, in)
                let (gg, xx) = (g * g.transpose(), &*input * input.transpose());
                let squared: f64 = gg.iter().zip(xx.iter()).map(|(&a, &b)| a as f64 * b as f64).sum();
                squared.max(0.0).sqrt()
            });
        let grad_norms: Vec<f64> = grad_norms.collect();
        let update_ratios = weights
            .zip(before)
            .map(|(after, before)| {
                let step = after
                    .iter()
                    .zip(before.iter())
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2));
                step.sum::<f64>().sqrt() / norm(after).max(f64::MIN_POSITIVE)
            })
            .collect();
        GradFlow {
            x,
            grad_norms,
            update_ratios,
        }
    }
}

/// Where a run paused inside an epoch: what a save made on Pause keeps besides the
/// weights, the optimiser and the rows (the data order is replayed from the seed).
#[derive(Clone, Debug, PartialEq)]
pub struct MidEpoch {
    /// Batches of the epoch already trained.
    pub batches_done: usize,
    pub loss_sum: f64,
    pub loss_average: f64,
    pub loss_average_weight: f64,
    pub epoch_ms: f64,
}

impl MidEpoch {
    /// As five numbers, for the save.
    pub fn to_numbers(&self) -> [f64; 5] {
        [
            self.batches_done as f64,
            self.loss_sum,
            self.loss_average,
            self.loss_average_weight,
            self.epoch_ms,
        ]
    }

    /// Back from [`to_numbers`](Self::to_numbers); `None` unless they can be one.
    pub fn from_numbers(numbers: &[f64]) -> Option<Self> {
        let &[batches, loss_sum, loss_average, loss_average_weight, epoch_ms] = numbers else {
            return None;
        };
        let whole = batches.fract() == 0.0 && (1.0..1e9).contains(&batches);
        (whole && numbers.iter().all(|n| n.is_finite())).then_some(MidEpoch {
            batches_done: batches as usize,
            loss_sum,
            loss_average,
            loss_average_weight,
            epoch_ms,
        })
    }
}

/// A training run: the model, the data order, and the running statistics.
#[derive(Debug)]
pub struct Trainer {
    pub config: TrainConfig,
    pub mlp: Mlp<f32>,
    /// The optimiser's state (momentum buffers, Adam's moments), beside the model.
    pub optimizer: Optimizer<f32>,
    pub history: Vec<EpochStats>,
    /// Recorded five times an epoch (at most every [`GRAD_FLOW_EVERY`] batches).
    pub grad_flow: Vec<GradFlow>,
    /// The weights and optimiser state as the last epoch ended (the history's last row
    /// describes them).
    pub epoch_end: Option<(Mlp<f32>, Optimizer<f32>)>,
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
    work: Workspace,
    labels: Vec<usize>,
    evaluation: Evaluation,
}

impl Trainer {
    pub fn new(config: TrainConfig, train_size: usize) -> Self {
        let mlp = Mlp::new(IMAGE_PIXELS, &config.hidden_dims, CLASSES, config.seed).with_activation(config.activation);
        let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(0x5eed));
        let used = config.train_limit.map_or(train_size, |n| n.min(train_size));
        let mut order: Vec<usize> = (0..used).collect();
        order.shuffle(&mut rng);
        Trainer {
            work: Workspace::default(),
            labels: Vec::with_capacity(config.batch_size),
            evaluation: Evaluation::default(),
            mlp,
            optimizer: config.new_optimizer(),
            history: Vec::new(),
            grad_flow: Vec::new(),
            epoch_end: None,
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

    /// A run that trains `mlp` (imported, or from an earlier run) instead of a fresh
    /// model, with a fresh optimiser; `config.hidden_dims` and `config.activation` are
    /// taken from it.
    pub fn with_model(config: TrainConfig, mlp: Mlp<f32>, train_size: usize) -> Self {
        let hidden_dims = mlp.layers.iter().map(|l| l.outputs()).collect();
        let activation = mlp.activation;
        let mut trainer = Trainer::new(
            TrainConfig {
                hidden_dims,
                activation,
                ..config
            },
            train_size,
        );
        trainer.mlp = mlp;
        trainer
    }

    /// The run `config` describes, resumed at the end of `history`'s epochs with `mlp` and
    /// `optimizer`, as they were then: the data order is reshuffled as often as those
    /// epochs did, so the run goes on exactly as if it had never stopped. With all its
    /// epochs done, the run is restored finished.
    pub fn resume(
        config: TrainConfig,
        mlp: Mlp<f32>,
        optimizer: Optimizer<f32>,
        history: Vec<EpochStats>,
        train_size: usize,
    ) -> Self {
        let mut trainer = Trainer::with_model(config, mlp, train_size);
        trainer.optimizer = optimizer;
        for _ in 0..history.len() {
            trainer.order.shuffle(&mut trainer.rng);
        }
        trainer.epoch = history.len();
        trainer.total_ms = history.iter().map(|e| e.seconds * 1000.0).sum();
        if trainer.epoch >= trainer.config.epochs {
            trainer.phase = Phase::Finished; // a finished run, restored to be used
        }
        trainer.history = history;
        trainer
    }

    /// Where the run stands inside an epoch, when it stopped between two of its batches
    /// (paused); `None` at an epoch's end, while evaluating, and once finished.
    pub fn mid_epoch(&self) -> Option<MidEpoch> {
        (matches!(self.phase, Phase::Training) && self.next_batch > 0).then_some(MidEpoch {
            batches_done: self.next_batch,
            loss_sum: self.epoch_loss_sum,
            loss_average: self.loss_average,
            loss_average_weight: self.loss_average_weight,
            epoch_ms: self.epoch_ms,
        })
    }

    /// A run [`resume`](Self::resume)d at the point `at` inside its next epoch, with the
    /// weights and optimiser it had there; `None` when `at` lies past the epoch's end.
    pub fn within_epoch(mut self, at: MidEpoch) -> Option<Self> {
        if at.batches_done >= self.batches_per_epoch() {
            return None;
        }
        self.next_batch = at.batches_done;
        self.epoch_loss_sum = at.loss_sum;
        self.loss_average = at.loss_average;
        self.loss_average_weight = at.loss_average_weight;
        self.epoch_ms = at.epoch_ms;
        self.total_ms += at.epoch_ms;
        Some(self)
    }

    /// Where a stopped run stood inside its epoch: it stopped between two of the epoch's
    /// batches, or before the epoch's evaluation. `None` at an epoch end.
    pub fn stopped_within(&self) -> Option<MidEpoch> {
        (matches!(self.phase, Phase::Finished) && self.next_batch > 0).then_some(MidEpoch {
            batches_done: self.next_batch,
            loss_sum: self.epoch_loss_sum,
            loss_average: self.loss_average,
            loss_average_weight: self.loss_average_weight,
            epoch_ms: self.epoch_ms,
        })
    }

    /// Go on inside the epoch `stopped` ended in ([`stopped_within`](Self::stopped_within)),
    /// on its data order, so that the epoch's row is one real epoch: its remaining
    /// batches, then its evaluation. Call after [`after`](Self::after); the batch size and
    /// the images used must be `stopped`'s.
    pub fn within_stopped_epoch(mut self, stopped: &Trainer) -> Self {
        let Some(at) = stopped.stopped_within() else {
            return self;
        };
        self.order.clone_from(&stopped.order);
        self.rng = stopped.rng.clone();
        self.next_batch = at.batches_done;
        self.epoch_loss_sum = at.loss_sum;
        self.loss_average = at.loss_average;
        self.loss_average_weight = at.loss_average_weight;
        self.epoch_ms = at.epoch_ms;
        self.total_ms = stopped.total_ms;
        if self.next_batch >= self.batches_per_epoch() {
            self.phase = Phase::Evaluating;
            self.evaluation.restart();
        }
        self
    }

    /// Go on after `history`'s epochs: numbering, the table, the epoch count and the
    /// training time continue.
    pub fn after(mut self, history: Vec<EpochStats>) -> Self {
        self.epoch = history.len();
        self.config.epochs += history.len();
        self.total_ms = history.iter().map(|e| e.seconds * 1000.0).sum();
        self.history = history;
        self
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.config.batch_size)
    }

    /// The last finished pass over the test set (after an epoch), for the confusion
    /// matrix and its gallery; `None` before the first, while one is under way, and for a
    /// run resumed from a save (its rows hold the score, not the matrix).
    pub fn evaluation(&self) -> Option<&Evaluation> {
        let done = !self.history.is_empty() && !matches!(self.phase, Phase::Evaluating);
        (done && self.evaluation.is_complete()).then_some(&self.evaluation)
    }

    /// Batches trained of the epoch under way: 0 when the weights are as the last epoch
    /// ended (its row describes them).
    pub fn batches_into_epoch(&self) -> usize {
        self.next_batch
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
            Phase::Evaluating => Ok(self.evaluate_chunk(test)),
            Phase::Finished | Phase::Failed => Ok(Progress::Finished),
        }
    }

    fn train_batch(&mut self, train: &Dataset) -> Result<Progress, Diverged> {
        let batches = self.batches_per_epoch();
        let start = self.next_batch * self.config.batch_size;
        let end = (start + self.config.batch_size).min(self.order.len());
        train.fill_batch(&self.order[start..end], &mut self.work.cache.input, &mut self.labels);
        let learning_rate = self.config.learning_rate as f32;
        let record = self.next_batch.is_multiple_of(grad_flow_interval(batches));
        let before: Vec<DMatrix<f32>> = match record {
            true => self
                .mlp
                .layers
                .iter()
                .chain([&self.mlp.output_layer])
                .map(|l| l.weight.clone())
                .collect(),
            false => Vec::new(),
        };
        let (mlp, work, labels, optimizer) = (&mut self.mlp, &mut self.work, &self.labels, &mut self.optimizer);
        let outcome = match self.config.bug {
            // The fused step is `optimizer.step()` too: it counts, as torch's `state["step"]`.
            Bug::None if optimizer.is_plain_sgd() => {
                train_step(mlp, work, labels, learning_rate).inspect(|_| optimizer.steps += 1)
            }
            bug => train_step_plain(mlp, work, labels, optimizer, bug),
        };
        let x = self.epoch as f64 + (self.next_batch + 1) as f64 / batches as f64;
        let flow = (record && outcome.is_ok()).then(|| GradFlow::of(&self.mlp, &before, &self.work, x));
        self.grad_flow.extend(flow.clone());
        self.next_batch += 1;
        let loss = outcome.map_err(|loss| {
            self.phase = Phase::Failed;
            Diverged {
                epoch: self.epoch + 1,
                batch: self.next_batch,
                loss,
            }
        })?;
        self.epoch_loss_sum += loss as f64;
        self.loss_average = SMOOTHING * self.loss_average + (1.0 - SMOOTHING) * loss as f64;
        self.loss_average_weight = SMOOTHING * self.loss_average_weight + (1.0 - SMOOTHING);
        if self.next_batch == batches {
            self.phase = Phase::Evaluating;
            self.evaluation.restart();
        }
        Ok(Progress::Batch {
            epoch: self.epoch + 1,
            batch: self.next_batch,
            batches,
            loss,
            flow,
        })
    }

    fn evaluate_chunk(&mut self, test: &Dataset) -> Progress {
        let batches = self.batches_per_epoch();
        let done = self.evaluation.step(&self.mlp, test);
        if done < test.len() {
            return Progress::Evaluating {
                epoch: self.epoch + 1,
                done,
                total: test.len(),
            };
        }
        let score = self.evaluation.score();
        let seconds = self.epoch_ms / 1000.0;
        let stats = EpochStats {
            epoch: self.epoch + 1,
            avg_loss: self.epoch_loss_sum / batches as f64,
            test_accuracy: score.accuracy,
            test_loss: score.loss,
            seconds,
            samples_per_s: if seconds > 0.0 {
                self.order.len() as f64 / seconds
            } else {
                0.0
            },
        };
        self.history.push(stats.clone());
        // What a save of this epoch end holds, kept so the save can be made a task later.
        self.epoch_end = Some((self.mlp.clone(), self.optimizer.clone()));
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

    /// The CSV for a report: one row per finished epoch (`test_loss` last, so the
    /// columns that came first keep their places).
    pub fn csv(&self) -> String {
        let mut out = String::from("epoch,avg_loss,test_accuracy,seconds,samples_per_s,test_loss\n");
        for s in &self.history {
            out += &format!(
                "{},{:.6},{:.2},{:.3},{:.0},{:.6}\n",
                s.epoch, s.avg_loss, s.test_accuracy, s.seconds, s.samples_per_s, s.test_loss
            );
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_support::synthetic;

    /// One hidden sigmoid layer written out in plain f64 loops, apart from `Mlp`, `loss`
    /// and `optim`: (W1, b1, W2, b2), W row by row.
    struct Reference {
        w1: Vec<Vec<f64>>,
        b1: Vec<f64>,
        w2: Vec<Vec<f64>>,
        b2: Vec<f64>,
    }

    impl Reference {
        fn of(mlp: &Mlp<f32>) -> Self {
            let rows = |w: &DMatrix<f32>| -> Vec<Vec<f64>> {
                w.row_iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect()
            };
            let column = |b: &nalgebra::DVector<f32>| b.iter().map(|&v| v as f64).collect();
            let (hidden, out) = (&mlp.layers[0], &mlp.output_layer);
            Reference {
                w1: rows(&hidden.weight),
                b1: column(&hidden.bias),
                w2: rows(&out.weight),
                b2: column(&out.bias),
            }
        }

        /// (sigmoid(W1 x + b1), softmax(W2 s + b2)) for one image.
        fn forward(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
            let affine = |w: &[Vec<f64>], b: &[f64], x: &[f64]| -> Vec<f64> {
                w.iter()
                    .zip(b)
                    .map(|(row, b)| b + row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>())
                    .collect()
            };
            let s: Vec<f64> = affine(&self.w1, &self.b1, x)
                .iter()
                .map(|z| 1.0 / (1.0 + (-z).exp()))
                .collect();
            let z = affine(&self.w2, &self.b2, &s);
            let max = z.iter().copied().fold(f64::MIN, f64::max);
            let total: f64 = z.iter().map(|z| (z - max).exp()).sum();
            (s, z.iter().map(|z| (z - max).exp() / total).collect())
        }

        /// Mean cross-entropy and accuracy (%) over a whole set.
        fn evaluate(&self, data: &Dataset) -> (f64, f64) {
            let (mut loss, mut correct) = (0.0, 0);
            for i in 0..data.len() {
                let x: Vec<f64> = data.image(i).iter().map(|&v| v as f64 / 255.0).collect();
                let (_, p) = self.forward(&x);
                loss -= p[data.label(i)].ln();
                let best = (0..p.len()).fold(0, |best, c| if p[c] > p[best] { c } else { best });
                correct += usize::from(best == data.label(i));
            }
            (loss / data.len() as f64, 100.0 * correct as f64 / data.len() as f64)
        }

        /// One SGD step on the whole set as one batch; returns the loss before it.
        fn step(&mut self, data: &Dataset, lr: f64) -> f64 {
            let n = data.len() as f64;
            let mut dw1 = vec![vec![0.0; self.w1[0].len()]; self.w1.len()];
            let mut db1 = vec![0.0; self.b1.len()];
            let mut dw2 = vec![vec![0.0; self.w2[0].len()]; self.w2.len()];
            let mut db2 = vec![0.0; self.b2.len()];
            let mut loss = 0.0;
            for i in 0..data.len() {
                let x: Vec<f64> = data.image(i).iter().map(|&v| v as f64 / 255.0).collect();
                let (s, p) = self.forward(&x);
                loss -= p[data.label(i)].ln() / n;
                let dz2: Vec<f64> = (0..p.len())
                    .map(|c| (p[c] - f64::from(c == data.label(i))) / n)
                    .collect();
                for (c, &d) in dz2.iter().enumerate() {
                    db2[c] += d;
                    dw2[c].iter_mut().zip(&s).for_each(|(g, s)| *g += d * s);
                }
                for (h, &s_h) in s.iter().enumerate() {
                    let ds: f64 = (0..dz2.len()).map(|c| self.w2[c][h] * dz2[c]).sum();
                    let dz1 = ds * s_h * (1.0 - s_h);
                    db1[h] += dz1;
                    dw1[h].iter_mut().zip(&x).for_each(|(g, x)| *g += dz1 * x);
                }
            }
            let descend = |p: &mut [f64], g: &[f64]| p.iter_mut().zip(g).for_each(|(p, g)| *p -= lr * g);
            self.w1.iter_mut().zip(&dw1).for_each(|(p, g)| descend(p, g));
            self.w2.iter_mut().zip(&dw2).for_each(|(p, g)| descend(p, g));
            descend(&mut self.b1, &db1);
            descend(&mut self.b2, &db2);
            loss
        }
    }

    #[test]
    fn training_follows_a_plain_loop_reference_epoch_by_epoch() {
        // The whole set as one batch, so the data order cannot matter.
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let config = TrainConfig {
            batch_size: 300,
            epochs: 10,
            ..small(2.0)
        };
        let mut trainer = Trainer::new(config, train.len());
        let mut reference = Reference::of(&trainer.mlp);
        while !trainer.is_finished() {
            trainer.step(&train, &test, 1.0).expect("no divergence");
        }
        for stats in &trainer.history {
            let expected = reference.step(&train, 2.0);
            let relative = (stats.avg_loss - expected).abs() / expected;
            assert!(
                relative < 1e-4,
                "epoch {}: loss {} vs reference {expected}",
                stats.epoch,
                stats.avg_loss
            );
        }
        assert!(
            trainer.history[9].avg_loss < 0.5 * trainer.history[0].avg_loss,
            "it learns"
        );
        // The reported test figures are the final model's, over the whole test set.
        let (test_loss, accuracy) = Reference::of(&trainer.mlp).evaluate(&test);
        let last = &trainer.history[9];
        assert!(
            (last.test_loss - test_loss).abs() < 1e-5 * test_loss,
            "{} vs {test_loss}",
            last.test_loss
        );
        assert_eq!(last.test_accuracy, accuracy);
    }

    #[test]
    fn the_smoothed_loss_is_the_bias_corrected_moving_average() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let mut trainer = Trainer::new(small(0.5), train.len());
        assert!(trainer.live().smoothed_loss.is_nan(), "no batch yet");
        let mut losses = Vec::new();
        while let Ok(Progress::Batch { loss, .. }) = trainer.step(&train, &test, 1.0) {
            losses.push(loss as f64);
            let k = losses.len() as i32;
            let weighted: f64 = losses
                .iter()
                .enumerate()
                .map(|(i, l)| (1.0 - SMOOTHING) * SMOOTHING.powi(k - 1 - i as i32) * l)
                .sum();
            let expected = weighted / (1.0 - SMOOTHING.powi(k));
            let got = trainer.live().smoothed_loss;
            assert!(
                (got - expected).abs() < 1e-12 * expected,
                "after {k} batches: {got} vs {expected}"
            );
        }
        assert_eq!(losses.len(), 10, "an epoch of batches");
    }

    #[test]
    fn the_status_line_figures() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let mut trainer = Trainer::new(small(0.5), train.len());
        let start = trainer.live();
        assert_eq!(
            (start.samples_per_s, start.elapsed_s, start.epoch, start.epochs),
            (0.0, 0.0, 1, 3)
        );
        for _ in 0..3 {
            trainer.step(&train, &test, 2.0).expect("no divergence");
        }
        // Three batches of 32; the 2 ms before each of the last two counted as training.
        let live = trainer.live();
        assert_eq!((live.samples_per_s, live.elapsed_s), (96.0 / 0.004, 0.004));
    }

    #[test]
    fn progress_counts_epochs_and_batches_from_one() {
        let (train, test) = (synthetic(300, 1), synthetic(1200, 2));
        let mut trainer = Trainer::new(small(0.5), train.len());
        assert!(trainer.is_untrained());
        let mut seen = Vec::new();
        while let Ok(progress) = trainer.step(&train, &test, 1.0) {
            match progress {
                Progress::Batch {
                    epoch, batch, batches, ..
                } => seen.push(("batch", epoch, batch, batches)),
                Progress::Evaluating { epoch, done, total } => seen.push(("evaluating", epoch, done, total)),
                Progress::EpochDone(stats) => seen.push(("epoch", stats.epoch, 0, 0)),
                Progress::Finished => break,
            }
            assert!(!trainer.is_untrained());
        }
        assert_eq!(seen[0], ("batch", 1, 1, 10));
        assert_eq!(seen[9], ("batch", 1, 10, 10));
        assert_eq!(
            seen[10..13],
            [
                ("evaluating", 1, 500, 1200),
                ("evaluating", 1, 1000, 1200),
                ("epoch", 1, 0, 0)
            ]
        );
        assert_eq!(seen[13], ("batch", 2, 1, 10));
        assert_eq!(seen.len(), 3 * 13);
    }

    #[test]
    fn each_epoch_reshuffles_and_the_same_seed_shuffles_the_same() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let orders = |seed| {
            let mut trainer = Trainer::new(TrainConfig { seed, ..small(0.5) }, train.len());
            let mut orders = vec![trainer.order.clone()];
            while !trainer.is_finished() {
                if let Ok(Progress::EpochDone(_)) = trainer.step(&train, &test, 1.0) {
                    orders.push(trainer.order.clone());
                }
            }
            orders
        };
        let a = orders(9);
        assert_eq!(a.len(), 4);
        for order in &a {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..300).collect::<Vec<_>>(), "a permutation");
        }
        assert!(a.windows(2).all(|w| w[0] != w[1]), "a new order every epoch");
        assert_eq!(a, orders(9), "the same seed, the same orders");
        assert_ne!(a, orders(10));
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
            bug: Bug::None,
            activation: Activation::Sigmoid,
            optimizer: OptimizerKind::PLAIN_SGD,
            weight_decay: 0.0,
        }
    }

    #[test]
    fn the_gradient_flow_is_recorded_five_times_an_epoch_and_vanishes_in_a_deep_sigmoid_net() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let config = TrainConfig {
            batch_size: 2, // 150 batches an epoch: a record every 30th
            epochs: 1,
            ..small(0.5)
        };
        let mut trainer = Trainer::new(config.clone(), train.len());
        let mut flows = Vec::new();
        while let Ok(progress) = trainer.step(&train, &test, 1.0) {
            match progress {
                Progress::Batch { batch, flow, .. } => flows.extend(flow.map(|f| (batch, f))),
                Progress::Finished => break,
                _ => {}
            }
        }
        let batches: Vec<usize> = flows.iter().map(|(b, _)| *b).collect();
        assert_eq!(batches, [1, 31, 61, 91, 121]);
        assert_eq!(trainer.grad_flow.len(), 5);
        assert_eq!(flows[1].1.x, 31.0 / 150.0);
        assert_eq!(
            (grad_flow_interval(938), grad_flow_interval(20)),
            (187, 10),
            "full MNIST: every 187th"
        );
        assert_eq!(grad_flow_interval(100_000), GRAD_FLOW_EVERY);
        // Recording changes nothing: the weights are those of a run that never records.
        let fused = Trainer::new(config, train.len());
        assert_eq!(trainer.mlp, run_without_records(fused, &train));
        // The fused step's first-layer norm (from the Gram matrices) is the stored gradient's.
        let mut mlp = Mlp::<f32>::new(784, &[16], 10, 3);
        let (mut work, mut labels) = (Workspace::default(), Vec::new());
        train.fill_batch(&[3, 50, 7, 99, 120], &mut work.cache.input, &mut labels);
        assert!(matches!(work.cache.input, Input::Sparse(_)));
        let cache = mlp.forward_batch(work.cache.input.to_dense().into_owned());
        let mut grad_output = DMatrix::zeros(5, 10);
        softmax_cross_entropy(&cache.output, &labels, &mut grad_output);
        let mut grads = Grads::default();
        mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);
        let before: Vec<DMatrix<f32>> = mlp
            .layers
            .iter()
            .chain([&mlp.output_layer])
            .map(|l| l.weight.clone())
            .collect();
        train_step(&mut mlp, &mut work, &labels, 0.5).expect("a step");
        let flow = GradFlow::of(&mlp, &before, &work, 0.0);
        // Plain SGD moves each weight by lr * its gradient: the ratio is that, measured.
        for (l, ratio) in flow.update_ratios.iter().enumerate() {
            let w = &mlp.linear(l).weight;
            let expected = 0.5 * flow.grad_norms[l] / w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
            assert!(
                (ratio - expected).abs() < 1e-3 * expected,
                "layer {l}: {ratio} vs {expected}"
            );
        }
        let stored = grads.layers[0]
            .weight
            .iter()
            .map(|&v| (v as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            (flow.grad_norms[0] - stored).abs() < 1e-5 * stored,
            "{} vs {stored}",
            flow.grad_norms[0]
        );
        assert_eq!(
            flow.grad_norms[1],
            grads
                .output_layer
                .weight
                .iter()
                .map(|&v| (v as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        );

        let deep = TrainConfig {
            train_limit: Some(64),
            epochs: 1,
            ..TrainConfig::deep_sigmoid()
        };
        let mut trainer = Trainer::new(deep, train.len());
        trainer.step(&train, &test, 1.0).expect("a batch");
        let flow = &trainer.grad_flow[0];
        assert_eq!(flow.grad_norms.len(), 5);
        let (first, last) = (flow.grad_norms[0], flow.grad_norms[4]);
        assert!(
            first < 0.01 * last,
            "vanishing: layers.0 {first:e}, output_layer {last:e}"
        );
        assert!(flow.update_ratios.iter().all(|r| *r > 0.0 && r.is_finite()));
    }

    /// The same run with every step fused: the weights a recording run must reach.
    fn run_without_records(mut trainer: Trainer, train: &Dataset) -> Mlp<f32> {
        let mut work = Workspace::default();
        let mut labels = Vec::new();
        let lr = trainer.config.learning_rate as f32;
        for chunk in trainer.order.clone().chunks(trainer.config.batch_size) {
            train.fill_batch(chunk, &mut work.cache.input, &mut labels);
            train_step(&mut trainer.mlp, &mut work, &labels, lr).expect("no divergence");
        }
        trainer.mlp
    }

    #[test]
    fn a_run_resumed_at_an_epoch_end_ends_with_the_same_weights_to_the_bit() {
        let momentum = TrainConfig {
            optimizer: OptimizerKind::MOMENTUM,
            activation: Activation::Tanh,
            weight_decay: 1e-3,
            ..small(0.1)
        };
        let adam = TrainConfig {
            optimizer: OptimizerKind::ADAM,
            activation: Activation::Relu,
            ..small(0.01)
        };
        for config in [small(0.5), momentum, adam] {
            resumed_at_an_epoch_end(config);
        }
    }

    fn resumed_at_an_epoch_end(config: TrainConfig) {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let straight = run(config.clone());
        let mut first = Trainer::new(config.clone(), train.len());
        while first.history.is_empty() {
            first.step(&train, &test, 1.0).expect("no divergence");
        }
        // What a reload keeps: the settings, the rows, and the weights and optimiser state
        // as a weights file.
        let (mlp, optimizer) = first.epoch_end.as_ref().expect("an epoch ended");
        let saved = crate::files::weights::export_run(mlp, optimizer, &Default::default()).expect("export");
        let (imported, optimizer) = crate::files::weights::import_run(&saved, config.new_optimizer()).expect("import");
        let mut resumed = Trainer::resume(
            config.clone(),
            imported.mlp,
            optimizer,
            first.history.clone(),
            train.len(),
        );
        while !resumed.is_finished() {
            resumed.step(&train, &test, 1.0).expect("no divergence");
        }
        assert_eq!(resumed.mlp, straight.mlp, "the same weights, to the bit: {config:?}");
        assert_eq!(resumed.optimizer, straight.optimizer);
        let figures = |t: &Trainer| {
            t.history
                .iter()
                .map(|s| (s.epoch, s.avg_loss, s.test_accuracy))
                .collect::<Vec<_>>()
        };
        assert_eq!(figures(&resumed), figures(&straight));
        // Without replaying the shuffles, the order, and so the weights, would differ.
        let (imported, optimizer) = crate::files::weights::import_run(&saved, config.new_optimizer()).expect("import");
        let mut naive = Trainer::with_model(config.clone(), imported.mlp.clone(), train.len());
        naive.optimizer = optimizer;
        (naive.epoch, naive.history) = (1, first.history.clone());
        while !naive.is_finished() {
            naive.step(&train, &test, 1.0).expect("no divergence");
        }
        assert_ne!(naive.mlp, straight.mlp);
        // Nor without the optimiser's state, where it keeps one.
        if !config.new_optimizer().is_plain_sgd() {
            let fresh = config.new_optimizer();
            let mut forgetful =
                Trainer::resume(config.clone(), imported.mlp, fresh, first.history.clone(), train.len());
            while !forgetful.is_finished() {
                forgetful.step(&train, &test, 1.0).expect("no divergence");
            }
            assert_ne!(forgetful.mlp, straight.mlp, "{config:?}");
        }
    }

    #[test]
    fn a_run_paused_mid_epoch_and_resumed_from_its_save_ends_the_same() {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let adam = TrainConfig {
            optimizer: OptimizerKind::ADAM,
            ..small(0.01)
        };
        for config in [small(0.5), adam] {
            let straight = run(config.clone());
            let mut first = Trainer::new(config.clone(), train.len());
            // Pause in the second epoch, after 4 of its batches.
            while first.history.is_empty() || first.mid_epoch().is_none_or(|m| m.batches_done < 4) {
                first.step(&train, &test, 1.0).expect("no divergence");
            }
            let at = first.mid_epoch().expect("paused inside an epoch");
            let saved =
                crate::files::weights::export_run(&first.mlp, &first.optimizer, &Default::default()).expect("export");
            let (imported, optimizer) =
                crate::files::weights::import_run(&saved, config.new_optimizer()).expect("import");
            let at = MidEpoch::from_numbers(&at.to_numbers()).expect("numbers");
            let resumed = Trainer::resume(
                config.clone(),
                imported.mlp,
                optimizer,
                first.history.clone(),
                train.len(),
            );
            let mut resumed = resumed.within_epoch(at).expect("inside the epoch");
            while !resumed.is_finished() {
                resumed.step(&train, &test, 1.0).expect("no divergence");
            }
            assert_eq!(resumed.mlp, straight.mlp, "{config:?}");
            let losses = |t: &Trainer| {
                t.history
                    .iter()
                    .map(|s| (s.avg_loss, s.test_accuracy))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                losses(&resumed),
                losses(&straight),
                "the epoch's average counts the batches before the pause"
            );
        }
        let finished = run(small(0.5));
        let (mlp, optimizer) = (finished.mlp.clone(), finished.optimizer.clone());
        let restored = Trainer::resume(small(0.5), mlp, optimizer, finished.history.clone(), 300);
        assert!(restored.is_finished(), "all its epochs done: restored finished");
        let seconds: f64 = finished.history.iter().map(|e| e.seconds).sum();
        assert_eq!(restored.live().elapsed_s, seconds, "the run's training time so far");
        assert_eq!(
            MidEpoch::from_numbers(&[0.0, 1.0, 1.0, 1.0, 1.0]),
            None,
            "no batch: an epoch end"
        );
        assert_eq!(MidEpoch::from_numbers(&[2.5, 1.0, 1.0, 1.0, 1.0]), None);
        assert_eq!(MidEpoch::from_numbers(&[2.0, f64::NAN, 1.0, 1.0, 1.0]), None);
        let far = MidEpoch::from_numbers(&[99.0, 1.0, 1.0, 1.0, 1.0]).expect("numbers");
        assert!(
            Trainer::new(small(0.5), 300).within_epoch(far).is_none(),
            "10 batches an epoch"
        );
    }

    #[test]
    fn momentum_and_adam_learn_with_every_activation() {
        for activation in Activation::ALL {
            for (optimizer, lr) in [(OptimizerKind::MOMENTUM, 0.05), (OptimizerKind::ADAM, 0.005)] {
                let config = TrainConfig {
                    activation,
                    optimizer,
                    ..small(lr)
                };
                let trainer = run(config.clone());
                let accuracy = trainer.history.last().expect("epochs ran").test_accuracy;
                assert!(accuracy > 90.0, "{activation:?} {optimizer:?}: {accuracy}%");
                assert_eq!(trainer.optimizer.steps as usize, 3 * trainer.batches_per_epoch());
            }
        }
    }

    #[test]
    fn a_broken_backward_trains_as_its_bug_says() {
        let flipped = run_until_diverged(TrainConfig {
            bug: Bug::GradOutputSign,
            ..small(0.5)
        });
        assert!(flipped.is_err(), "gradient ascent climbs until it diverges");
        let history = |t: Trainer| t.history.iter().map(|s| s.test_accuracy).collect::<Vec<_>>();
        let right = history(run(small(0.5)));
        let no_derivative = run_until_diverged(TrainConfig {
            bug: Bug::NoSigmoidDerivative,
            ..small(0.5)
        });
        let broken = history(no_derivative.expect("it still learns"));
        assert!(broken[2] > 20.0, "above chance (10%): {broken:?}");
        assert_ne!(broken, right, "but not as the right pass: {right:?}");
    }

    fn run_until_diverged(config: TrainConfig) -> Result<Trainer, Diverged> {
        let (train, test) = (synthetic(300, 1), synthetic(120, 2));
        let mut trainer = Trainer::new(config, train.len());
        while !trainer.is_finished() {
            trainer.step(&train, &test, 1.0)?;
        }
        Ok(trainer)
    }

    #[test]
    fn the_fused_step_equals_backward_then_sgd_to_the_bit() {
        // A sparse batch (most pixels blank, feature 5 in no sample): the fused path.
        let x = DMatrix::from_fn(6, 40, |r, c| {
            if c == 5 || (r * 7 + c) % 3 != 0 {
                0.0
            } else {
                0.01 * (r + c) as f32
            }
        });
        let labels = [0, 1, 2, 3, 1, 0];
        for hidden in [vec![33], vec![]] {
            let mut separate = Mlp::<f32>::new(40, &hidden, 4, 5);
            let (mut fused, mut plain) = (separate.clone(), separate.clone());
            let mut work = Workspace {
                cache: Cache::of(Input::new(x.clone())),
                ..Workspace::default()
            };
            let mut plain_work = work.clone();
            let mut optimizer = Optimizer::new(OptimizerKind::PLAIN_SGD, 0.3, 0.0);
            assert!(matches!(work.cache.input, Input::Sparse(_)));
            for _ in 0..3 {
                let cache = separate.forward_batch(x.clone());
                let mut grad_output = DMatrix::zeros(6, 4);
                softmax_cross_entropy(&cache.output, &labels, &mut grad_output);
                let mut grads = Grads::default();
                separate.backward(&cache, &grad_output, &mut grads, Scope::Full);
                sgd_step(&mut separate, &grads, 0.3);
                train_step(&mut fused, &mut work, &labels, 0.3).expect("no divergence");
                assert_eq!(separate, fused, "the same weights, to the bit ({hidden:?})");
                // The path of the optimisers with state (no dL/dinput) too.
                train_step_plain(&mut plain, &mut plain_work, &labels, &mut optimizer, Bug::None)
                    .expect("no divergence");
                assert_eq!(separate, plain, "the plain path, to the bit ({hidden:?})");
            }
            assert_ne!(
                separate,
                Mlp::<f32>::new(40, &hidden, 4, 5),
                "the steps moved the weights"
            );
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
    fn every_optimiser_counts_its_steps_the_fused_sgd_step_too() {
        for optimizer in [OptimizerKind::PLAIN_SGD, OptimizerKind::MOMENTUM, OptimizerKind::ADAM] {
            let trainer = run(TrainConfig {
                optimizer,
                ..small(0.05)
            });
            let batches = trainer.batches_per_epoch() as u64;
            assert_eq!(
                trainer.optimizer.steps,
                3 * batches,
                "{optimizer:?}: 3 epochs of {batches} batches"
            );
        }
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
        let mut trainer = Trainer::new(small(1000.0), train.len());
        let outcome = (0..40).try_for_each(|_| trainer.step(&train, &test, 1.0).map(drop));
        let diverged = outcome.expect_err("lr 1000 must diverge");
        assert_eq!(diverged.epoch, 1, "epochs count from 1");
        assert!(diverged.batch >= 1);
        assert!(!diverged.loss.is_finite() || diverged.loss > DIVERGED_LOSS);
        assert!(trainer.is_finished());
    }

    #[test]
    fn csv_has_one_row_per_epoch() {
        let trainer = run(small(0.5));
        let csv = trainer.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "epoch,avg_loss,test_accuracy,seconds,samples_per_s,test_loss");
        assert_eq!(lines.len(), 4);
        let fields: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(fields.len(), 6);
        assert_eq!(
            fields[5],
            format!("{:.6}", trainer.history[0].test_loss),
            "the table's test loss"
        );
        assert_eq!(fields[0], "1");
        assert!(fields.iter().all(|f| f.parse::<f64>().is_ok()), "{}", lines[1]);
        assert_eq!(fields[3], "0.010", "seconds");
        assert_eq!(fields[4], "30000", "300 samples in 10 ms");
    }
}
