//! Gradient checking: the hand-written backward pass against central finite differences,
//! all in f64, as the seed's Part 1 does against autograd.
//!
//! For every parameter p and element k: numeric = (L(p_k + h) - L(p_k - h)) / 2h.
//! A tensor passes when ||manual - numeric||_2 < 1e-6, the seed's bar. The forward pass
//! is also checked, against a plain-loop forward written independently of `Mlp`.

use crate::activation::sigmoid;
use crate::fields::{parse_count, parse_dims, parse_seed, Problem};
use crate::loss::{mse, softmax_cross_entropy, LossKind};
use crate::mlp::{parameter_count, Grads, InputGrad, Mlp};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};

/// The seed's bar for the 2-norm of (manual - reference).
pub const TOLERANCE: f64 = 1e-6;
/// Central-difference step: truncation error ~h^2, rounding ~1e-16/h.
const STEP: f64 = 1e-5;
/// Largest model the page checks; each parameter costs two forward passes.
pub const MAX_PARAMS: usize = 20_000;
pub const MAX_BATCH: usize = 256;
pub const MAX_DIM: usize = 4096;
/// Bound on batch * params^2, the multiply-adds of a full check (a few seconds in wasm).
const MAX_WORK: f64 = 2e9;

/// One gradient-check problem: a model, a loss and random data drawn from `seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckCase {
    pub input_dim: usize,
    pub hidden_dims: Vec<usize>,
    pub output_dim: usize,
    pub loss: LossKind,
    /// `None`: one 1-D sample `(in,)`, as the seed's Part 1; `Some(B)`: a batch `(B, in)`.
    pub batch: Option<usize>,
    pub seed: u64,
}

impl CheckCase {
    /// The seed's Part 1: 32-[16,4]-2, MSE, one 1-D sample.
    pub fn seed_part1() -> Self {
        CheckCase {
            input_dim: 32,
            hidden_dims: vec![16, 4],
            output_dim: 2,
            loss: LossKind::Mse,
            batch: None,
            seed: 42,
        }
    }
}

/// Which input a problem is about, so the page can show the message next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    InputDim,
    HiddenDims,
    OutputDim,
    Batch,
    Seed,
}

impl Field {
    pub fn id(self) -> &'static str {
        match self {
            Field::InputDim => "input_dim",
            Field::HiddenDims => "hidden_dims",
            Field::OutputDim => "output_dim",
            Field::Batch => "batch",
            Field::Seed => "seed",
        }
    }
}

/// A refused case: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    pub field: Field,
    pub problem: Problem,
}

impl CaseError {
    fn new(field: Field, problem: Problem) -> Self {
        CaseError { field, problem }
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
    /// max_k |manual_k - numeric_k| / max(|manual_k|, |numeric_k|, 1e-8)
    pub max_rel_error: f64,
    pub passed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    pub loss: f64,
    /// ||Mlp::forward - plain-loop forward||_2, the seed's `Output Error`
    pub output_error: f64,
    pub output_passed: bool,
    pub rows: Vec<CheckRow>,
}

/// Build a case from the page's text fields; `batch` empty means one 1-D sample.
pub fn parse_case(
    input_dim: &str,
    hidden_dims: &str,
    output_dim: &str,
    loss: LossKind,
    batch: &str,
    seed: &str,
) -> Result<CheckCase, CaseError> {
    let on = |field| move |problem| CaseError::new(field, problem);
    let case = CheckCase {
        input_dim: parse_count(input_dim, 1, MAX_DIM).map_err(on(Field::InputDim))?,
        hidden_dims: parse_dims(hidden_dims, MAX_DIM).map_err(on(Field::HiddenDims))?,
        output_dim: parse_count(output_dim, 1, MAX_DIM).map_err(on(Field::OutputDim))?,
        loss,
        batch: match batch.trim() {
            "" => None,
            text => Some(parse_count(text, 1, MAX_BATCH).map_err(on(Field::Batch))?),
        },
        seed: parse_seed(seed).map_err(on(Field::Seed))?,
    };
    validate(&case)?;
    Ok(case)
}

/// Refuse cases that are malformed or too large to check in a few seconds.
pub fn validate(case: &CheckCase) -> Result<(), CaseError> {
    let size = |field, value: usize| {
        if value == 0 {
            Err(CaseError::new(field, Problem::new("too_small", &[&value, &1])))
        } else if value > MAX_DIM {
            Err(CaseError::new(field, Problem::new("too_large", &[&value, &MAX_DIM])))
        } else {
            Ok(())
        }
    };
    size(Field::InputDim, case.input_dim)?;
    size(Field::OutputDim, case.output_dim)?;
    for &width in &case.hidden_dims {
        size(Field::HiddenDims, width)?;
    }
    let batch = case.batch.unwrap_or(1);
    if batch == 0 || batch > MAX_BATCH {
        return Err(CaseError::new(
            Field::Batch,
            Problem::new("too_large", &[&batch, &MAX_BATCH]),
        ));
    }
    if case.loss == LossKind::CrossEntropy && case.output_dim < 2 {
        return Err(CaseError::new(
            Field::OutputDim,
            Problem::new("ce_needs_two_classes", &[]),
        ));
    }
    let params = parameter_count(case.input_dim, &case.hidden_dims, case.output_dim);
    if params > MAX_PARAMS || batch as f64 * (params as f64).powi(2) > MAX_WORK {
        let problem = Problem::new("check_too_costly", &[&params, &batch, &MAX_PARAMS]);
        return Err(CaseError::new(Field::HiddenDims, problem));
    }
    Ok(())
}

/// Standard normal draws (Box-Muller), as `torch.randn`.
fn randn(rng: &mut impl Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    })
}

/// The data a case is checked on.
enum Target {
    Values(DMatrix<f64>),
    Labels(Vec<usize>),
}

fn loss_and_grad(output: &DMatrix<f64>, target: &Target, grad: &mut DMatrix<f64>) -> f64 {
    match target {
        Target::Values(y) => mse(output, y, grad),
        Target::Labels(labels) => softmax_cross_entropy(output, labels, grad),
    }
}

fn loss_of(mlp: &Mlp<f64>, x: &DMatrix<f64>, target: &Target) -> f64 {
    let output = mlp.forward(x).output;
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
                    if is_output {
                        z
                    } else {
                        sigmoid(z)
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

/// Compare two gradients of the same tensor.
fn compare(name: String, shape: Vec<usize>, grad_shape: Vec<usize>, manual: &[f64], numeric: &[f64]) -> CheckRow {
    let mut sum_sq = 0.0;
    let mut max_rel_error: f64 = 0.0;
    for (&m, &n) in manual.iter().zip(numeric) {
        let diff = (m - n).abs();
        sum_sq += diff * diff;
        max_rel_error = max_rel_error.max(diff / m.abs().max(n.abs()).max(1e-8));
    }
    let error_norm = sum_sq.sqrt();
    let passed = manual.len() == numeric.len() && error_norm < TOLERANCE;
    CheckRow {
        name,
        shape,
        grad_shape,
        error_norm,
        max_rel_error,
        passed,
    }
}

/// Run the check: hand-written gradients against central differences, and the forward
/// pass against the plain-loop reference.
pub fn run(case: &CheckCase) -> Result<CheckReport, CaseError> {
    validate(case)?;
    let mut mlp = Mlp::<f64>::new(case.input_dim, &case.hidden_dims, case.output_dim, case.seed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(case.seed.wrapping_add(1));
    let batch = case.batch.unwrap_or(1);
    let mut x = randn(&mut rng, batch, case.input_dim);
    let target = match case.loss {
        LossKind::Mse => Target::Values(randn(&mut rng, batch, case.output_dim)),
        LossKind::CrossEntropy => Target::Labels((0..batch).map(|_| rng.random_range(0..case.output_dim)).collect()),
    };

    // Hand-written: forward, loss, backward.
    let cache = mlp.forward(&x);
    let mut grad_output = DMatrix::zeros(batch, case.output_dim);
    let loss = loss_and_grad(&cache.output, &target, &mut grad_output);
    let mut grads: Grads<f64> = mlp.new_grads();
    mlp.backward(&cache, &grad_output, &mut grads, InputGrad::Compute);
    let output_error = (&cache.output - reference_forward(&mlp, &x)).norm();

    // Numeric: central differences, one element at a time.
    let info = mlp.param_info();
    let manual: Vec<Vec<f64>> = grads.params().into_iter().map(<[f64]>::to_vec).collect();
    let grad_shapes: Vec<Vec<usize>> = grads
        .layers
        .iter()
        .chain([&grads.output_layer])
        .flat_map(|g| [vec![g.weight.nrows(), g.weight.ncols()], vec![g.bias.len()]])
        .collect();
    let mut rows = Vec::with_capacity(info.len() + 1);
    for (t, ((param, manual), grad_shape)) in info.into_iter().zip(&manual).zip(grad_shapes).enumerate() {
        let numeric: Vec<f64> = (0..manual.len())
            .map(|k| {
                let original = mlp.params_mut()[t][k];
                mlp.params_mut()[t][k] = original + STEP;
                let plus = loss_of(&mlp, &x, &target);
                mlp.params_mut()[t][k] = original - STEP;
                let minus = loss_of(&mlp, &x, &target);
                mlp.params_mut()[t][k] = original;
                (plus - minus) / (2.0 * STEP)
            })
            .collect();
        rows.push(compare(param.name, param.shape, grad_shape, manual, &numeric));
    }

    // dL/dinput, the other thing `backward` returns.
    let numeric_input = DMatrix::from_fn(batch, case.input_dim, |b, i| {
        let original = x[(b, i)];
        x[(b, i)] = original + STEP;
        let plus = loss_of(&mlp, &x, &target);
        x[(b, i)] = original - STEP;
        let minus = loss_of(&mlp, &x, &target);
        x[(b, i)] = original;
        (plus - minus) / (2.0 * STEP)
    });
    let input_shape = match case.batch {
        None => vec![case.input_dim],
        Some(b) => vec![b, case.input_dim],
    };
    rows.push(compare(
        "input".to_string(),
        input_shape.clone(),
        input_shape,
        grads.input.as_slice(),
        numeric_input.as_slice(),
    ));

    Ok(CheckReport {
        loss,
        output_error,
        output_passed: output_error < TOLERANCE,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_case_names_the_field() {
        let ce = LossKind::CrossEntropy;
        let err = |a, h, o, b, s| parse_case(a, h, o, ce, b, s).unwrap_err().field;
        assert_eq!(err("32", "16,x", "2", "", "1"), Field::HiddenDims);
        assert_eq!(err("-4", "16", "2", "", "1"), Field::InputDim);
        assert_eq!(err("32", "16", "1", "", "1"), Field::OutputDim);
        assert_eq!(err("32", "16", "2", "0", "1"), Field::Batch);
        assert_eq!(err("32", "16", "2", "", "x"), Field::Seed);
        let case = parse_case("32", "16,4", "2", LossKind::Mse, "", "42").unwrap();
        assert_eq!(case, CheckCase::seed_part1());
    }

    #[test]
    fn too_large_and_zero_sizes_are_refused_by_field() {
        let mut case = CheckCase::seed_part1();
        case.input_dim = 0;
        assert_eq!(run(&case).unwrap_err().field, Field::InputDim);
        let mut case = CheckCase::seed_part1();
        case.hidden_dims = vec![784, 256];
        assert_eq!(run(&case).unwrap_err().field, Field::HiddenDims);
        let mut case = CheckCase::seed_part1();
        case.batch = Some(0);
        assert_eq!(run(&case).unwrap_err().field, Field::Batch);
    }

    #[test]
    fn a_wrong_gradient_would_fail() {
        let manual = [1.0, 2.0, 3.0];
        let row = compare("w".into(), vec![3], vec![3], &manual, &[1.0, 2.0, 3.00001]);
        assert!(!row.passed);
        assert!((row.error_norm - 1e-5).abs() < 1e-9);
    }
}
