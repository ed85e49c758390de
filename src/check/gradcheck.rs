//! Gradient checking: the hand-written backward pass against central finite differences,
//! all in f64, as the notebook's Part 1 does against autograd.
//!
//! For every parameter p and element k: `numeric = (L(p_k + h) - L(p_k - h)) / 2h`.
//! A tensor passes when ||manual - numeric||_2 < 1e-6, the notebook's bar. The forward pass
//! is also checked, against a plain-loop forward written independently of `Mlp`.

use crate::model::activation::{sigmoid, Activation};
use crate::model::bug::{Bug, ShapeCrash};
use crate::model::loss::{mse, softmax_cross_entropy, LossKind};
use crate::model::mlp::{parameter_count, Grads, Mlp, Scope};
use crate::problem::{FieldError, Problem};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};

/// The notebook's bar for the 2-norm of (manual - reference).
pub const TOLERANCE: f64 = 1e-6;
/// Central-difference step: truncation error ~h^2, rounding ~1e-16/h.
const STEP: f64 = 1e-5;
pub const MAX_BATCH: usize = 256;
pub const MAX_DIM: usize = 4096;
/// f64 multiply-adds per second in the browser, to estimate how long a check takes.
const MULTIPLY_ADDS_PER_S: f64 = 4.5e8;
/// The longest check the page starts; it runs in small steps, so the page stays usable.
pub const MAX_SECONDS: f64 = 120.0;
/// Multiply-adds per [`Checker::step`]: a few milliseconds in the browser.
const WORK_PER_STEP: f64 = 2e6;
/// Entries per tensor a spot check differentiates, drawn at random (Stanford's cs231n course,
/// `grad_check_sparse`): for nets too large to check every entry in [`MAX_SECONDS`].
pub const SPOT_ENTRIES: usize = 20;

/// One gradient-check problem: a model, a loss and random data drawn from the random seed `seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckCase {
    pub input_dim: usize,
    pub hidden_dims: Vec<usize>,
    pub output_dim: usize,
    pub loss: LossKind,
    /// `None`: one 1-D sample `(in,)`, as the notebook's Part 1; `Some(B)`: a batch `(B, in)`.
    pub batch: Option<usize>,
    pub seed: u64,
    /// The hidden layers' activation (sigmoid in the notebook).
    pub activation: Activation,
}

impl CheckCase {
    /// The notebook's Part 1: `32-[16,4]-2`, MSE, one 1-D sample.
    pub fn notebook_part1() -> Self {
        CheckCase {
            input_dim: 32,
            hidden_dims: vec![16, 4],
            output_dim: 2,
            loss: LossKind::Mse,
            batch: None,
            seed: 42,
            activation: Activation::Sigmoid,
        }
    }
}

/// One row of the page's table.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    /// `state_dict` name, or `input` for dL/dinput
    pub name: String,
    pub shape: Vec<usize>,
    pub grad_shape: Vec<usize>,
    /// ||manual - numeric||_2
    pub error_norm: f64,
    /// `max_k |manual_k - numeric_k| / max(|manual_k|, |numeric_k|, 1e-8)`
    pub max_rel_error: f64,
    pub passed: bool,
    /// Entries compared: all of them, or a spot check's sample.
    pub checked: usize,
    /// The index (as the shape counts) of the entry where manual and numeric differ most.
    pub worst: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    pub loss: f64,
    /// `||Mlp::forward - plain-loop forward||_2`, the notebook's `Output Error`
    pub output_error: f64,
    pub output_passed: bool,
    pub rows: Vec<CheckRow>,
    /// Where the backward pass raised the notebook's 1-D shape error instead of a table.
    pub crash: Option<ShapeCrash>,
    /// A spot check: entries per tensor drawn at random, because checking every entry
    /// would take about `full_seconds`. `None`: every entry was checked.
    pub spot: Option<usize>,
    pub full_seconds: f64,
}

/// Refuse cases that are malformed or too large to check in a few seconds.
pub fn validate(case: &CheckCase) -> Result<(), FieldError> {
    let size = |field: &'static str, value: usize| {
        if value == 0 {
            Err(FieldError::new(field, Problem::new("too_small", &[&value, &1])))
        } else if value > MAX_DIM {
            Err(FieldError::new(field, Problem::new("too_large", &[&value, &MAX_DIM])))
        } else {
            Ok(())
        }
    };
    size("input_dim", case.input_dim)?;
    size("output_dim", case.output_dim)?;
    for &width in &case.hidden_dims {
        size("hidden_dims", width)?;
    }
    let batch = case.batch.unwrap_or(1);
    if batch == 0 || batch > MAX_BATCH {
        return Err(FieldError::new(
            "batch",
            Problem::new("too_large", &[&batch, &MAX_BATCH]),
        ));
    }
    if case.loss == LossKind::CrossEntropy && case.output_dim < 2 {
        return Err(FieldError::new("output_dim", Problem::new("ce_needs_two_classes", &[])));
    }
    let seconds = spot_seconds(case).min(estimated_seconds(case));
    if seconds > MAX_SECONDS {
        // The batch, when one sample would do; else the widest layer's field.
        let one = CheckCase {
            batch: None,
            ..case.clone()
        };
        let widest_hidden = case.hidden_dims.iter().copied().max().unwrap_or(0);
        // The batch when one sample would do; else the hidden widths, the student's own
        // choice (the input and output are the data's), when they weigh.
        let field = if batch > 1 && spot_seconds(&one) <= MAX_SECONDS {
            "batch"
        } else if widest_hidden > 0 && widest_hidden * 8 >= case.input_dim.min(case.output_dim) {
            "hidden_dims"
        } else if case.input_dim >= case.output_dim {
            "input_dim"
        } else {
            "output_dim"
        };
        let problem = Problem::new("check_too_costly", &[&seconds.round(), &MAX_SECONDS]);
        return Err(FieldError::new(field, problem));
    }
    Ok(())
}

/// What a layer costs beyond its multiply-adds (allocating and walking its matrices),
/// in multiply-adds: it dominates for very narrow layers.
const LAYER_OVERHEAD: f64 = 400.0;

/// Multiply-adds of one forward pass of the case's batch, layer overheads included.
fn forward_work(case: &CheckCase) -> f64 {
    let parameters = parameter_count(case.input_dim, &case.hidden_dims, case.output_dim);
    work(case.batch.unwrap_or(1), parameters, case.hidden_dims.len() + 1)
}

/// Multiply-adds of one forward pass: a batch through `parameters` in `layers` layers.
fn work(batch: usize, parameters: usize, layers: usize) -> f64 {
    batch as f64 * parameters as f64 + LAYER_OVERHEAD * layers as f64
}

/// How many numbers the check differentiates: every parameter and every input.
fn elements(case: &CheckCase) -> usize {
    let inputs = case.batch.unwrap_or(1) * case.input_dim;
    parameter_count(case.input_dim, &case.hidden_dims, case.output_dim) + inputs
}

/// About how long the whole check takes in the browser: two forward passes per number.
pub fn estimated_seconds(case: &CheckCase) -> f64 {
    2.0 * elements(case) as f64 * forward_work(case) / MULTIPLY_ADDS_PER_S
}

/// About how long a spot check of [`SPOT_ENTRIES`] per tensor takes in the browser.
fn spot_seconds(case: &CheckCase) -> f64 {
    let tensors = 2 * (case.hidden_dims.len() + 1) + 1;
    2.0 * (tensors * SPOT_ENTRIES) as f64 * forward_work(case) / MULTIPLY_ADDS_PER_S
}

/// Where entry `k` of a tensor of `shape` sits, as its shape counts it: parameters are
/// stored column-major (nalgebra), the input row-major.
fn index_of(k: usize, shape: &[usize], column_major: bool) -> Vec<usize> {
    match *shape {
        [rows, _] if column_major => vec![k % rows, k / rows],
        [_, cols] => vec![k / cols, k % cols],
        _ => vec![k],
    }
}

/// Standard normal draws (Box-Muller), as `torch.randn`.
fn randn(rng: &mut impl Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    })
}

/// What the loss compares the output with: MSE's values (B, out), or cross-entropy's
/// class labels (B,).
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Values(DMatrix<f64>),
    Labels(Vec<usize>),
}

/// The loss of `output` against `target`; writes dL/doutput into `grad`.
pub fn loss_and_grad(output: &DMatrix<f64>, target: &Target, grad: &mut DMatrix<f64>) -> f64 {
    match target {
        Target::Values(y) => mse(output, y, grad),
        Target::Labels(labels) => softmax_cross_entropy(output, labels, grad),
    }
}

fn loss_of(mlp: &Mlp<f64>, x: &DMatrix<f64>, target: &Target) -> f64 {
    let output = mlp.forward_batch(x.clone()).output;
    let mut scratch = DMatrix::zeros(output.nrows(), output.ncols());
    loss_and_grad(&output, target, &mut scratch)
}

/// The forward pass in plain loops over samples and neurons: an independent reference.
fn reference_forward(mlp: &Mlp<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    let layers: Vec<_> = mlp.layers.iter().chain([&mlp.output_layer]).collect();
    let mut out = DMatrix::zeros(x.nrows(), mlp.output_dim());
    for b in 0..x.nrows() {
        let mut a: Vec<f64> = x.row(b).iter().copied().collect();
        for (l, layer) in layers.iter().enumerate() {
            let is_output = l + 1 == layers.len();
            a = (0..layer.outputs())
                .map(|o| {
                    let z: f64 = layer.bias[o] + (0..layer.inputs()).map(|i| layer.weight[(o, i)] * a[i]).sum::<f64>();
                    match (is_output, mlp.activation) {
                        (true, _) => z,
                        (false, Activation::Sigmoid) => sigmoid(z),
                        (false, Activation::Relu) => z.max(0.0),
                        (false, Activation::Tanh) => z.tanh(),
                    }
                })
                .collect();
        }
        for (o, v) in a.into_iter().enumerate() {
            out[(b, o)] = v;
        }
    }
    out
}

/// Compare a hand-written gradient with the numeric one of the same parameter. The row
/// fails when the hand-written one has another shape (or is missing): a gradient is
/// never passed without every element compared.
/// `entries`: which entries `numeric` holds (a spot check's sample), else all of them;
/// `column_major`: how `manual` is stored (parameters), else row-major (the input).
fn compare(
    (name, shape, grad_shape): (String, Vec<usize>, Vec<usize>),
    manual: &[f64],
    numeric: &[f64],
    entries: Option<&[usize]>,
    column_major: bool,
) -> CheckRow {
    let all = shape.iter().product::<usize>();
    let same_shape = grad_shape == shape && manual.len() == all;
    let at = |i: usize| entries.map_or(i, |e| e[i]);
    let (mut sum_sq, mut max_rel_error, mut worst) = (0.0, 0.0f64, (0.0, 0));
    for (i, &n) in numeric.iter().enumerate() {
        let m = manual.get(at(i)).copied().unwrap_or(f64::NAN);
        let diff = (m - n).abs();
        sum_sq += diff * diff;
        max_rel_error = max_rel_error.max(diff / m.abs().max(n.abs()).max(1e-8));
        if diff > worst.0 {
            worst = (diff, at(i));
        }
    }
    let error_norm = if same_shape { sum_sq.sqrt() } else { f64::INFINITY };
    CheckRow {
        worst: index_of(worst.1, &shape, column_major),
        name,
        shape,
        grad_shape,
        error_norm,
        max_rel_error: if same_shape { max_rel_error } else { f64::INFINITY },
        passed: error_norm < TOLERANCE,
        checked: numeric.len(),
    }
}

/// The hand-written side: the loss, the output, every parameter gradient with the
/// shape `backward` gave it, and dL/dinput with its shape.
#[derive(Debug)]
struct HandWritten {
    loss: f64,
    output: DMatrix<f64>,
    params: Vec<(Vec<usize>, Vec<f64>)>,
    input: (Vec<usize>, Vec<f64>),
}

fn hand_written(
    mlp: &Mlp<f64>,
    x: &DMatrix<f64>,
    target: &Target,
    one_sample: bool,
    bug: Bug,
    tamper: impl Fn(&mut Grads<f64>),
) -> Result<HandWritten, ShapeCrash> {
    let (batch, outputs) = (x.nrows(), mlp.output_dim());
    let mut grad_output = DMatrix::zeros(batch, outputs);
    let (cache, loss, grads, input) = if one_sample {
        // The notebook's Part 1: x and dL/doutput are 1-D, and so is dL/dinput.
        let cache = mlp.forward_sample(&DVector::from_column_slice(x.as_slice()));
        let loss = loss_and_grad(&cache.output, target, &mut grad_output);
        let (mut grads, input) =
            bug.backward_sample(mlp, &cache, &DVector::from_column_slice(grad_output.as_slice()))?;
        tamper(&mut grads);
        (cache, loss, grads, (vec![input.len()], input.as_slice().to_vec()))
    } else {
        let cache = mlp.forward_batch(x.clone());
        let loss = loss_and_grad(&cache.output, target, &mut grad_output);
        let mut grads = Grads::default();
        bug.backward(mlp, &cache, &grad_output, &mut grads, Scope::Full);
        tamper(&mut grads);
        let input = grads.input.transpose(); // row-major, as the numeric side is built
        let shape = vec![grads.input.nrows(), grads.input.ncols()];
        (cache, loss, grads, (shape, input.as_slice().to_vec()))
    };
    let linears = grads.layers.iter().chain([&grads.output_layer]);
    let params = linears
        .flat_map(|g| {
            [
                (vec![g.weight.nrows(), g.weight.ncols()], g.weight.as_slice().to_vec()),
                (vec![g.bias.len()], g.bias.as_slice().to_vec()),
            ]
        })
        .collect();
    Ok(HandWritten {
        loss,
        output: cache.output,
        params,
        input,
    })
}

/// Run the check: hand-written gradients against central differences, and the forward
/// pass against the plain-loop reference.
pub fn run(case: &CheckCase) -> Result<CheckReport, FieldError> {
    run_with(case, Bug::None, |_| {})
}

/// [`run`] with the backward pass broken by `bug`, and `tamper` applied to the
/// hand-written gradients before they are compared: how tests show that a wrong or
/// missing gradient fails its row.
pub fn run_with(case: &CheckCase, bug: Bug, tamper: impl Fn(&mut Grads<f64>)) -> Result<CheckReport, FieldError> {
    let mut checker = Checker::new(case, bug, tamper)?;
    while checker.step().done < checker.step_total() {}
    Ok(checker.report())
}

/// How far a [`Checker`] is: numbers differentiated, of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckProgress {
    pub done: usize,
    pub total: usize,
}

/// A gradient check in small steps, so the page can yield between them: the
/// hand-written side at once, then central differences a few numbers per [`step`](Self::step).
#[derive(Debug)]
pub struct Checker {
    mlp: Mlp<f64>,
    x: DMatrix<f64>,
    target: Target,
    one_sample: bool,
    manual: HandWritten,
    crash: Option<ShapeCrash>,
    output_error: f64,
    /// Numbers per step, from their cost.
    per_step: usize,
    /// The tensor being differentiated (parameters in `state_dict` order, then the input),
    /// its next element, and the numeric gradient so far.
    tensor: usize,
    element: usize,
    numeric: Vec<f64>,
    rows: Vec<CheckRow>,
    done: usize,
    total: usize,
    /// A spot check's entries, tensor by tensor (sorted); `None`: every entry.
    picks: Option<Vec<Vec<usize>>>,
    full_seconds: f64,
}

impl Checker {
    /// Validate the case, build the model and data from its random seed, and compute the
    /// hand-written gradients (from the backward pass broken by `bug`, with `tamper`
    /// applied to them). A backward pass that crashes leaves nothing to differentiate.
    pub fn new(case: &CheckCase, bug: Bug, tamper: impl Fn(&mut Grads<f64>)) -> Result<Self, FieldError> {
        validate(case)?;
        let mlp = Mlp::<f64>::new(case.input_dim, &case.hidden_dims, case.output_dim, case.seed)
            .with_activation(case.activation);
        let mut rng = rand::rngs::StdRng::seed_from_u64(case.seed.wrapping_add(1));
        let batch = case.batch.unwrap_or(1);
        let x = randn(&mut rng, batch, case.input_dim);
        let target = match case.loss {
            LossKind::Mse => Target::Values(randn(&mut rng, batch, case.output_dim)),
            LossKind::CrossEntropy => {
                Target::Labels((0..batch).map(|_| rng.random_range(0..case.output_dim)).collect())
            }
        };
        let checker = Checker::on(mlp, x, target, case.batch.is_none(), bug, tamper);
        let full_seconds = estimated_seconds(case);
        Ok(match full_seconds > MAX_SECONDS {
            true => checker.spot(SPOT_ENTRIES, case.seed),
            false => checker,
        })
    }

    /// Check only `entries` per tensor, drawn at random from `seed` (every entry of a
    /// smaller tensor): `grad_check_sparse` of Stanford's cs231n course, for nets too large to check whole.
    pub fn spot(mut self, entries: usize, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(2));
        let sizes: Vec<usize> = (0..=self.manual.params.len()).map(|t| self.full_len(t)).collect();
        let picks: Vec<Vec<usize>> = sizes
            .iter()
            .map(|&size| {
                let mut picked = rand::seq::index::sample(&mut rng, size, entries.min(size)).into_vec();
                picked.sort_unstable();
                picked
            })
            .collect();
        self.full_seconds = Checker::seconds_for(&self.mlp, self.x.nrows());
        self.total = if self.crash.is_some() {
            0
        } else {
            picks.iter().map(Vec::len).sum()
        };
        self.picks = Some(picks);
        self
    }

    /// A check of `mlp` on the batch x (B, in) and its target, given rather than drawn
    /// from a seed; `one_sample`: x is one 1-D sample (B = 1). The caller bounds its cost.
    pub fn on(
        mlp: Mlp<f64>,
        x: DMatrix<f64>,
        target: Target,
        one_sample: bool,
        bug: Bug,
        tamper: impl Fn(&mut Grads<f64>),
    ) -> Self {
        let (manual, crash) = match hand_written(&mlp, &x, &target, one_sample, bug, tamper) {
            Ok(manual) => (manual, None),
            Err(crash) => {
                let output = mlp.forward_batch(x.clone()).output;
                let loss = loss_of(&mlp, &x, &target);
                let nothing = (Vec::new(), Vec::new());
                (
                    HandWritten {
                        loss,
                        output,
                        params: Vec::new(),
                        input: nothing,
                    },
                    Some(crash),
                )
            }
        };
        let parameters: usize = mlp.param_info().iter().map(|p| p.shape.iter().product::<usize>()).sum();
        let forward = work(x.nrows(), parameters, mlp.layers.len() + 1);
        let total = if crash.is_some() { 0 } else { parameters + x.len() };
        let output_error = (&manual.output - reference_forward(&mlp, &x)).norm();
        let per_step = (WORK_PER_STEP / (2.0 * forward)).max(1.0) as usize;
        Checker {
            mlp,
            x,
            target,
            one_sample,
            manual,
            crash,
            output_error,
            per_step,
            tensor: 0,
            element: 0,
            numeric: Vec::new(),
            rows: Vec::new(),
            done: 0,
            total,
            picks: None,
            full_seconds: 0.0,
        }
    }

    /// About how long [`on`](Self::on)'s check of these sizes takes in the browser.
    pub fn seconds_for(mlp: &Mlp<f64>, batch: usize) -> f64 {
        let parameters: usize = mlp.param_info().iter().map(|p| p.shape.iter().product::<usize>()).sum();
        let inputs = batch * mlp.layers.first().unwrap_or(&mlp.output_layer).inputs();
        2.0 * (parameters + inputs) as f64 * work(batch, parameters, mlp.layers.len() + 1) / MULTIPLY_ADDS_PER_S
    }

    /// All the numbers to differentiate.
    pub fn step_total(&self) -> usize {
        self.total
    }

    /// Differentiate the next few numbers; a finished tensor becomes its row.
    pub fn step(&mut self) -> CheckProgress {
        let tensors = self.manual.params.len() + 1; // every parameter, then the input
        for _ in 0..self.per_step {
            if self.tensor == tensors || self.crash.is_some() {
                break;
            }
            let size = self.tensor_len(self.tensor);
            if self.element < size {
                let k = self.element;
                let value = self.central_difference(k);
                self.numeric.push(value);
                self.element += 1;
                self.done += 1;
            }
            if self.element == size {
                self.finish_tensor();
            }
        }
        CheckProgress {
            done: self.done,
            total: self.total,
        }
    }

    /// How many numbers of tensor `t` are differentiated: a spot check's sample, or all.
    fn tensor_len(&mut self, t: usize) -> usize {
        match &self.picks {
            Some(picks) => picks[t].len(),
            None => self.full_len(t),
        }
    }

    /// How many numbers tensor `t` holds: a parameter's size (whatever the hand-written
    /// gradient's), or the input's.
    fn full_len(&mut self, t: usize) -> usize {
        self.mlp.params_mut().nth(t).map_or(self.x.len(), |param| param.len())
    }

    /// Number k of tensor t: parameters in `state_dict` order, then the input, row-major.
    fn number(&mut self, t: usize, k: usize) -> &mut f64 {
        let cols = self.x.ncols();
        match self.mlp.params_mut().nth(t) {
            Some(param) => &mut param[k],
            None => &mut self.x[(k / cols, k % cols)],
        }
    }

    /// (L(+h) - L(-h)) / 2h for element k of the current tensor. The input's elements
    /// are counted row-major, as the hand-written side lists them.
    fn central_difference(&mut self, k: usize) -> f64 {
        let t = self.tensor;
        let k = self.picks.as_ref().map_or(k, |picks| picks[t][k]);
        let original = *self.number(t, k);
        *self.number(t, k) = original + STEP;
        let plus = loss_of(&self.mlp, &self.x, &self.target);
        *self.number(t, k) = original - STEP;
        let minus = loss_of(&self.mlp, &self.x, &self.target);
        *self.number(t, k) = original;
        (plus - minus) / (2.0 * STEP)
    }

    fn finish_tensor(&mut self) {
        let numeric = std::mem::take(&mut self.numeric);
        let entries = self.picks.as_ref().map(|picks| picks[self.tensor].as_slice());
        let row = match self.mlp.param_info().into_iter().nth(self.tensor) {
            Some(param) => {
                let (grad_shape, manual) = &self.manual.params[self.tensor];
                let names = (param.name, param.shape, grad_shape.clone());
                compare(names, manual, &numeric, entries, true)
            }
            None => {
                let (batch, inputs) = self.x.shape();
                let shape = if self.one_sample {
                    vec![inputs]
                } else {
                    vec![batch, inputs]
                };
                let (grad_shape, manual) = &self.manual.input;
                let names = ("input".to_string(), shape, grad_shape.clone());
                compare(names, manual, &numeric, entries, false)
            }
        };
        self.rows.push(row);
        self.tensor += 1;
        self.element = 0;
    }

    /// The table, once every number is differentiated.
    pub fn report(self) -> CheckReport {
        debug_assert_eq!(self.done, self.total, "report before the check finished");
        CheckReport {
            loss: self.manual.loss,
            output_error: self.output_error,
            output_passed: self.output_error < TOLERANCE,
            rows: self.rows,
            crash: self.crash,
            spot: self.picks.map(|picks| picks.iter().map(Vec::len).max().unwrap_or(0)),
            full_seconds: self.full_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_and_zero_sizes_are_refused_by_field() {
        let mut case = CheckCase::notebook_part1();
        case.input_dim = 0;
        assert_eq!(run(&case).unwrap_err().field, "input_dim");
        let mut case = CheckCase::notebook_part1();
        case.hidden_dims = vec![4096; 20];
        assert_eq!(run(&case).unwrap_err().field, "hidden_dims");
        let mut case = CheckCase::notebook_part1();
        case.batch = Some(0);
        assert_eq!(run(&case).unwrap_err().field, "batch");
    }

    #[test]
    fn only_checks_of_minutes_even_spot_checked_are_refused_and_by_the_field_to_change() {
        // About 22 s in the browser: accepted, as it runs in steps.
        let wide = CheckCase {
            input_dim: 4096,
            hidden_dims: vec![],
            output_dim: 4,
            batch: Some(7),
            ..CheckCase::notebook_part1()
        };
        assert!(validate(&wide).is_ok());
        assert!(
            (15.0..30.0).contains(&estimated_seconds(&wide)),
            "{}",
            estimated_seconds(&wide)
        );
        // The notebook's own net: too large to check whole, so spot-checked.
        let notebook = CheckCase {
            input_dim: 784,
            hidden_dims: vec![256],
            output_dim: 10,
            batch: None,
            ..CheckCase::notebook_part1()
        };
        assert!(estimated_seconds(&notebook) > MAX_SECONDS && spot_seconds(&notebook) < 1.0);
        assert!(validate(&notebook).is_ok());
        // Too large even to spot-check: the batch, when one sample would do.
        let batched = CheckCase {
            input_dim: 4096,
            hidden_dims: vec![4096, 4096],
            batch: Some(256),
            ..notebook.clone()
        };
        let refused = validate(&batched).unwrap_err();
        assert_eq!(
            (refused.field, refused.problem.code),
            ("batch", "check_too_costly"),
            "one sample would do"
        );
        assert!(refused.problem.args[0].parse::<f64>().unwrap() > MAX_SECONDS);
        // Else the hidden widths, the student's choice, not the data's input size.
        let wide_hidden = CheckCase {
            hidden_dims: vec![4096; 20],
            ..notebook
        };
        assert_eq!(validate(&wide_hidden).unwrap_err().field, "hidden_dims");
        // Many narrow layers cost time however few their parameters.
        let deep = CheckCase {
            input_dim: 1,
            hidden_dims: vec![1; 5000],
            output_dim: 1,
            batch: None,
            ..CheckCase::notebook_part1()
        };
        assert!(estimated_seconds(&deep) > 10.0, "{}", estimated_seconds(&deep));
    }

    #[test]
    fn steps_stay_small_and_cover_every_number() {
        let case = CheckCase {
            batch: Some(3),
            ..CheckCase::notebook_part1()
        };
        let mut checker = Checker::new(&case, Bug::None, |_| {}).unwrap();
        let total = checker.step_total();
        assert_eq!(total, 606 + 3 * 32);
        let mut steps = 0;
        while checker.step().done < total {
            steps += 1;
        }
        assert!(steps > 0, "a small case still takes steps of bounded work");
        assert_eq!(checker.report(), run(&case).unwrap());
    }

    #[test]
    fn a_wrong_gradient_would_fail() {
        let manual = [1.0, 2.0, 3.0];
        let row = compare(
            ("w".into(), vec![3], vec![3]),
            &manual,
            &[1.0, 2.0, 3.00001],
            None,
            true,
        );
        assert!(!row.passed);
        assert!((row.error_norm - 1e-5).abs() < 1e-9);
        assert!(
            (row.max_rel_error - 1e-5 / 3.00001).abs() < 1e-12,
            "{}",
            row.max_rel_error
        );
        let tiny = compare(("w".into(), vec![1], vec![1]), &[0.0], &[1e-9], None, true);
        assert!((tiny.max_rel_error - 0.1).abs() < 1e-12, "relative to at least 1e-8");
    }

    #[test]
    fn the_data_are_standard_normal() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let x = randn(&mut rng, 200, 100);
        let n = x.len() as f64;
        let mean = x.sum() / n;
        let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.03 && (variance - 1.0).abs() < 0.05,
            "mean {mean}, variance {variance}"
        );
    }

    #[test]
    fn a_missing_or_misshapen_gradient_fails() {
        let numeric = [0.0; 6];
        let empty = compare(("w".into(), vec![2, 3], vec![0, 0]), &[], &numeric, None, true);
        assert!(!empty.passed && empty.error_norm.is_infinite(), "{empty:?}");
        let transposed = compare(("w".into(), vec![2, 3], vec![3, 2]), &[0.0; 6], &numeric, None, true);
        assert!(!transposed.passed, "{transposed:?}");
        let right = compare(("w".into(), vec![2, 3], vec![2, 3]), &[0.0; 6], &numeric, None, true);
        assert!(right.passed);
    }
}
