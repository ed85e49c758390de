//! "Check my notebook's backward": the gradients a student's own backward pass gave in
//! the notebook, saved with their model, input and target as one safetensors bundle,
//! compared with this page's backward on the same numbers (itself checked against
//! central differences when that is quick). Under a failing table, a hint reads the
//! pattern of failures.

use crate::check::gradcheck::{loss_and_grad, Checker, Target, TOLERANCE};
use crate::files::tensors::{self, File, Values};
use crate::files::weights::model_from;
use crate::model::activation::Activation;
use crate::model::bug::Bug;
use crate::model::loss::LossKind;
use crate::model::mlp::{Grads, Mlp, Scope};
use crate::problem::Problem;
use nalgebra::DMatrix;

/// Longest the central-difference check of the page's own backward may take; a larger
/// bundle is compared with the page's backward alone (itself checked elsewhere).
const MAX_NUMERIC_SECONDS: f64 = 3.0;

/// One row: the student's gradient of one parameter against the reference.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleRow {
    /// The parameter's `state_dict` name.
    pub name: String,
    pub shape: Vec<usize>,
    /// The student's gradient's shape; `None` when the bundle lacks it.
    pub grad_shape: Option<Vec<usize>>,
    /// `||student - reference||_2`; infinite when missing or misshapen.
    pub error_norm: f64,
    pub passed: bool,
}

/// What the failures most likely mean (a string-table code).
#[derive(Clone, Debug, PartialEq)]
pub enum Hint {
    /// Some gradients are not in the bundle.
    Missing,
    /// A gradient of another shape than its parameter's: (name, its shape, the parameter's).
    Shape(String, Vec<usize>, Vec<usize>),
    /// Every gradient is zero: `backward` never ran, or `zero_grad()` came before saving.
    AllZero,
    /// Only hidden layers fail: the sigmoid's derivative.
    SigmoidDerivative,
    /// Only biases fail: summing over the batch.
    BiasSum,
    /// Only weights above the first fail: the layer's input.
    LayerInput,
    /// Everything is the reference times this factor: `grad_output`'s sign or scale.
    Scaled(f64),
    /// Everything fails, in no simple pattern: start from `grad_output`.
    GradOutput,
    /// Another pattern: the topmost failing tensor, where the backward pass first goes wrong.
    FirstWrong(String),
    /// Everything fails, but every gradient is right for another activation: the one the
    /// metadata names (`None`: it names none, so the notebook's sigmoid was taken) may be
    /// wrong; the second is the one that fits.
    Activation(Option<String>, String),
}

impl Hint {
    /// Its string-table code and the values its text quotes.
    pub fn code_and_args(&self) -> (&'static str, Vec<String>) {
        match self {
            Hint::Missing => ("bundle_hint_missing", vec![]),
            Hint::Shape(name, got, want) => (
                "bundle_hint_shape",
                vec![name.clone(), format!("{got:?}"), format!("{want:?}")],
            ),
            Hint::AllZero => ("bundle_hint_all_zero", vec![]),
            Hint::SigmoidDerivative => ("bundle_hint_sigmoid_derivative", vec![]),
            Hint::BiasSum => ("bundle_hint_bias_sum", vec![]),
            Hint::LayerInput => ("bundle_hint_layer_input", vec![]),
            Hint::Scaled(f) if (f + 1.0).abs() < 1e-6 => ("bundle_hint_sign", vec![]),
            Hint::Scaled(f) => {
                let factor = format!("{f:.4}");
                (
                    "bundle_hint_scale",
                    vec![factor.trim_end_matches('0').trim_end_matches('.').to_string()],
                )
            }
            Hint::GradOutput => ("bundle_hint_grad_output", vec![]),
            Hint::FirstWrong(name) => ("bundle_hint_first_wrong", vec![name.clone()]),
            Hint::Activation(Some(named), fits) => ("bundle_hint_activation", vec![named.clone(), fits.clone()]),
            Hint::Activation(None, fits) => ("bundle_hint_activation_unnamed", vec![fits.clone()]),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BundleReport {
    pub loss_kind: LossKind,
    pub loss: f64,
    /// The dtype of the student's gradients: `F64`, `F32`, ...
    pub dtype: String,
    /// The bar each row's error must stay under: the notebook's 1e-6, plus (when
    /// `bar_scales`: gradients saved in less than f64) this times `||reference||_2`.
    pub tolerance: f64,
    pub bar_scales: bool,
    /// `max ||page backward - central differences||_2` over the tensors, when computed.
    pub reference_error: Option<f64>,
    pub rows: Vec<BundleRow>,
    pub hint: Option<Hint>,
    /// The input's shape: `[in]` (the notebook's 1-D sample) or `[B, in]`.
    pub input_shape: Vec<usize>,
}

fn floats<'a>(file: &'a File, key: &str) -> Result<(&'a [usize], &'a [f64]), Problem> {
    let tensor = file
        .tensors
        .get(key)
        .ok_or_else(|| Problem::new("bundle_missing", &[&key]))?;
    match &tensor.values {
        Values::Float(v) => Ok((&tensor.shape, v)),
        Values::Int(_) => Err(Problem::new("st_dtype_integer", &[&key, &tensor.dtype])),
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The input as a batch (B, in), and whether it was the notebook's 1-D sample.
fn input(file: &File, inputs: usize) -> Result<(DMatrix<f64>, bool), Problem> {
    let (shape, values) = floats(file, "input")?;
    let (rows, one_sample) = match *shape {
        [n] if n == inputs => (1, true),
        [b, n] if n == inputs && b > 0 => (b, false),
        _ => {
            let wanted = format!("({inputs},) / (B, {inputs})");
            return Err(Problem::new("bundle_shape", &[&"input", &shape_text(shape), &wanted]));
        }
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Problem::new("st_not_finite", &[&"input"]));
    }
    Ok((DMatrix::from_row_slice(rows, inputs, values), one_sample))
}

/// The hidden activation the metadata names (`sigmoid`, `relu`, `tanh`); the notebook's
/// sigmoid when it names none.
fn activation(file: &File) -> Result<Activation, Problem> {
    match file.metadata.get("activation").map(|a| a.trim().to_lowercase()) {
        None => Ok(Activation::Sigmoid),
        Some(name) => Activation::from_name(&name).ok_or_else(|| {
            let shown: String = name.chars().take(24).collect();
            Problem::new("st_unknown_activation", &[&shown])
        }),
    }
}

/// The loss the metadata names, or the one the target's dtype implies.
fn loss_kind(file: &File) -> Result<LossKind, Problem> {
    let integer_target = matches!(file.tensors.get("target").map(|t| &t.values), Some(Values::Int(_)));
    let named = file
        .metadata
        .get("loss")
        .map(|l| l.trim().to_lowercase().replace('-', "_"));
    match named.as_deref() {
        Some("mse" | "mse_loss") => Ok(LossKind::Mse),
        Some("cross_entropy" | "crossentropy" | "ce") => Ok(LossKind::CrossEntropy),
        Some(other) => Err(Problem::new("bundle_loss_unknown", &[&other])),
        None if integer_target => Ok(LossKind::CrossEntropy),
        None => Ok(LossKind::Mse),
    }
}

fn target(file: &File, kind: LossKind, batch: usize, one_sample: bool, outputs: usize) -> Result<Target, Problem> {
    let tensor = file
        .tensors
        .get("target")
        .ok_or_else(|| Problem::new("bundle_missing", &[&"target"]))?;
    match kind {
        LossKind::Mse => {
            let Values::Float(values) = &tensor.values else {
                return Err(Problem::new("bundle_target_dtype", &[&tensor.dtype, &"mse"]));
            };
            let fits = if one_sample {
                tensor.shape == [outputs]
            } else {
                tensor.shape == [batch, outputs]
            };
            if !fits {
                let wanted = if one_sample {
                    format!("({outputs},)")
                } else {
                    format!("({batch}, {outputs})")
                };
                return Err(Problem::new(
                    "bundle_shape",
                    &[&"target", &shape_text(&tensor.shape), &wanted],
                ));
            }
            Ok(Target::Values(DMatrix::from_row_slice(batch, outputs, values)))
        }
        LossKind::CrossEntropy => {
            let Values::Int(labels) = &tensor.values else {
                return Err(Problem::new("bundle_target_dtype", &[&tensor.dtype, &"cross_entropy"]));
            };
            if labels.len() != batch || tensor.shape.len() > 1 {
                let wanted = if one_sample {
                    "() / (1,)".to_string()
                } else {
                    format!("({batch},)")
                };
                return Err(Problem::new(
                    "bundle_shape",
                    &[&"target", &shape_text(&tensor.shape), &wanted],
                ));
            }
            if let Some(bad) = labels.iter().find(|&&y| y < 0 || y as usize >= outputs) {
                return Err(Problem::new("bundle_label", &[bad, &(outputs - 1)]));
            }
            Ok(Target::Labels(labels.iter().map(|&y| y as usize).collect()))
        }
    }
}

/// The page's backward on the bundle's numbers: every parameter gradient, then the
/// input's, row-major.
fn reference(mlp: &Mlp<f64>, x: &DMatrix<f64>, target: &Target) -> (f64, Vec<Vec<f64>>) {
    let cache = mlp.forward_batch(x.clone());
    let mut grad_output = DMatrix::zeros(x.nrows(), mlp.output_dim());
    let loss = loss_and_grad(&cache.output, target, &mut grad_output);
    let mut grads = Grads::default();
    mlp.backward(&cache, &grad_output, &mut grads, Scope::Full);
    let linears = grads.layers.iter().chain([&grads.output_layer]);
    let row_major = linears.flat_map(|g| [g.weight.transpose().as_slice().to_vec(), g.bias.as_slice().to_vec()]);
    let input = grads.input.transpose().as_slice().to_vec();
    (loss, row_major.chain([input]).collect())
}

/// The rows, the student's gradients of the right shapes, and their dtypes.
type Compared<'a> = (Vec<BundleRow>, Vec<Option<&'a [f64]>>, Vec<&'a str>);

/// The student's gradients against the reference, tensor by tensor (`grad.{name}` for
/// each of `tensors`, names and shapes): the rows, the gradients of the right shapes, and
/// their dtypes.
fn compare<'a>(
    file: &'a File,
    tensors: &[(String, Vec<usize>)],
    reference: &[Vec<f64>],
) -> Result<Compared<'a>, Problem> {
    let (mut rows, mut student, mut dtypes) = (Vec::new(), Vec::new(), Vec::new());
    for ((name, shape), expected) in tensors.iter().zip(reference) {
        let key = format!("grad.{name}");
        let given = match file.tensors.get(&key) {
            None => None,
            Some(tensor) => {
                let (given_shape, values) = floats(file, &key)?;
                if values.iter().any(|v| !v.is_finite()) {
                    return Err(Problem::new("bundle_not_finite", &[&key]));
                }
                dtypes.push(tensor.dtype.as_str());
                Some((given_shape.to_vec(), values))
            }
        };
        let error_norm = match &given {
            Some((given_shape, values)) if given_shape == shape => values
                .iter()
                .zip(expected)
                .map(|(s, r)| (s - r).powi(2))
                .sum::<f64>()
                .sqrt(),
            _ => f64::INFINITY,
        };
        student.push(given.as_ref().filter(|(g, _)| g == shape).map(|(_, v)| *v));
        let reference_norm = expected.iter().map(|v| v * v).sum::<f64>().sqrt();
        let dtype = file.tensors.get(&key).map_or("F64", |t| t.dtype.as_str());
        let bar = TOLERANCE + bar(dtype).map_or(0.0, |relative| relative * reference_norm);
        rows.push(BundleRow {
            name: name.clone(),
            shape: shape.clone(),
            grad_shape: given.map(|(g, _)| g),
            error_norm,
            passed: error_norm < bar,
        });
    }
    Ok((rows, student, dtypes))
}

/// Everything fails: is every gradient right for another activation than the one taken?
fn other_activation(
    file: &File,
    mlp: &Mlp<f64>,
    x: &DMatrix<f64>,
    target: &Target,
    tensors: &[(String, Vec<usize>)],
) -> Option<Hint> {
    let named = file.metadata.get("activation").map(|a| a.trim().to_lowercase());
    Activation::ALL
        .into_iter()
        .filter(|&a| a != mlp.activation)
        .find_map(|other| {
            let (_, reference) = reference(&mlp.clone().with_activation(other), x, target);
            let (rows, _, _) = compare(file, tensors, &reference).ok()?;
            rows.iter()
                .all(|r| r.passed)
                .then(|| Hint::Activation(named.clone(), other.name().to_string()))
        })
}

/// `precision`: the relative error the gradients' dtype leaves (1e-6 for f64).
fn hint(rows: &[BundleRow], student: &[Option<&[f64]>], reference: &[Vec<f64>], precision: f64) -> Option<Hint> {
    let failed: Vec<&BundleRow> = rows.iter().filter(|r| !r.passed).collect();
    if failed.is_empty() {
        return None;
    }
    if rows.iter().any(|r| r.grad_shape.is_none()) {
        return Some(Hint::Missing);
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.grad_shape.as_ref().is_some_and(|g| *g != r.shape))
    {
        let got = r.grad_shape.clone().unwrap_or_default();
        return Some(Hint::Shape(r.name.clone(), got, r.shape.clone()));
    }
    if student.iter().flatten().all(|g| g.iter().all(|&v| v == 0.0)) {
        return Some(Hint::AllZero);
    }
    let fails = |name: &str| failed.iter().any(|r| r.name == name);
    let only = |pick: &dyn Fn(&str) -> bool| rows.iter().all(|r| fails(&r.name) == pick(&r.name));
    if failed.len() == rows.len() {
        // One factor for everything? Least squares over every tensor, then its residual.
        let pairs = || {
            student
                .iter()
                .zip(reference)
                .flat_map(|(s, r)| s.unwrap_or(&[]).iter().zip(r))
        };
        let (sr, rr) = pairs().fold((0.0, 0.0), |(sr, rr), (s, r)| (sr + s * r, rr + r * r));
        let factor = sr / rr.max(f64::MIN_POSITIVE);
        let residual: f64 = pairs().map(|(s, r)| (s - factor * r).powi(2)).sum::<f64>().sqrt();
        let size: f64 = pairs().map(|(s, _)| s * s).sum::<f64>().sqrt();
        return Some(if residual <= precision * size.max(1e-12) {
            Hint::Scaled(factor)
        } else {
            Hint::GradOutput
        });
    }
    if only(&|n| n.starts_with("layers.") || n == "input") || only(&|n| n.starts_with("layers.")) {
        return Some(Hint::SigmoidDerivative);
    }
    if only(&|n| n.ends_with(".bias")) {
        return Some(Hint::BiasSum);
    }
    if only(&|n| n.ends_with(".weight") && n != "layers.0.weight") {
        return Some(Hint::LayerInput);
    }
    // The backward pass runs from the output down: the last failing row is where it first goes wrong.
    failed.last().map(|r| Hint::FirstWrong(r.name.clone()))
}

/// What the bar adds, times `||reference||`, for gradients saved in `dtype`: about ten
/// times the relative error that precision's rounding leaves of a right backward. `None`
/// for f64, held to the notebook's 1e-6 alone.
fn bar(dtype: &str) -> Option<f64> {
    match dtype {
        "F64" => None,
        "F32" => Some(1e-6),
        "F16" => Some(2e-3),
        _ => Some(1e-2), // BF16 keeps 8 bits of mantissa
    }
}

/// Check a bundle saved from the notebook (see the page for the snippet).
pub fn check(bytes: &[u8]) -> Result<BundleReport, Problem> {
    let file = tensors::read(bytes)?;
    // Gradients saved under other names than the snippet's: say how to name them.
    let misnamed = file
        .tensors
        .keys()
        .find(|k| k.ends_with(".grad") || k.starts_with("grads.") || k.starts_with("gradient"));
    if let Some(key) = misnamed {
        return Err(Problem::new("bundle_grad_keys", &[key]));
    }
    if !file.tensors.keys().any(|k| k.starts_with("grad.")) {
        // Only parameters: a weights file, for *Load weights*.
        let weights = ["input", "target"].iter().all(|k| !file.tensors.contains_key(*k))
            && file.tensors.keys().any(|k| k.ends_with(".weight"));
        let code = if weights {
            "bundle_is_weights"
        } else {
            "bundle_no_grads"
        };
        return Err(Problem::new(code, &[]));
    }
    let extra = |k: &str| k == "input" || k == "target" || k.starts_with("grad.");
    let (mlp, _) = model_from(&file, None, None, extra)?;
    let mlp = mlp.with_activation(activation(&file)?);
    let inputs = mlp.layers.first().unwrap_or(&mlp.output_layer).inputs();
    let (x, one_sample) = input(&file, inputs)?;
    let loss_kind = loss_kind(&file)?;
    let target = target(&file, loss_kind, x.nrows(), one_sample, mlp.output_dim())?;
    let (loss, reference) = reference(&mlp, &x, &target);

    let mut tensors: Vec<(String, Vec<usize>)> = mlp.param_info().into_iter().map(|p| (p.name, p.shape)).collect();
    let input_shape = if one_sample {
        vec![inputs]
    } else {
        vec![x.nrows(), inputs]
    };
    tensors.push(("input".to_string(), input_shape.clone()));
    let grad_keys: Vec<String> = tensors.iter().map(|(name, _)| format!("grad.{name}")).collect();
    if let Some(stray) = file
        .tensors
        .keys()
        .find(|k| k.starts_with("grad.") && !grad_keys.contains(k))
    {
        return Err(Problem::new("bundle_unknown_grad", &[stray, &grad_keys.join(", ")]));
    }
    // The input's gradient is checked when the bundle holds it, as the page's `input` row.
    if !file.tensors.contains_key("grad.input") {
        tensors.pop();
    }
    let (rows, student, mut dtypes) = compare(&file, &tensors, &reference)?;
    dtypes.sort_unstable();
    dtypes.dedup();
    let dtype = if dtypes.is_empty() {
        "F64".to_string()
    } else {
        dtypes.join(", ")
    };
    // The loosest bar any row was held to, as the page states it.
    let relative = dtypes
        .iter()
        .filter_map(|d| bar(d))
        .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.max(b))));
    let hint = match hint(&rows, &student, &reference, relative.unwrap_or(TOLERANCE)) {
        Some(Hint::GradOutput) => other_activation(&file, &mlp, &x, &target, &tensors).or(Some(Hint::GradOutput)),
        hint => hint,
    };
    let reference_error = (Checker::seconds_for(&mlp, x.nrows()) <= MAX_NUMERIC_SECONDS).then(|| {
        let mut checker = Checker::on(mlp, x.clone(), target, one_sample, Bug::None, |_| {});
        while checker.step().done < checker.step_total() {}
        let report = checker.report();
        report
            .rows
            .iter()
            .filter(|r| r.name != "input")
            .map(|r| r.error_norm)
            .fold(0.0, f64::max)
    });
    Ok(BundleReport {
        loss_kind,
        loss,
        tolerance: relative.unwrap_or(TOLERANCE),
        bar_scales: relative.is_some(),
        dtype,
        reference_error,
        rows,
        hint,
        input_shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_names_its_code_and_quotes_its_values() {
        assert_eq!(Hint::Scaled(-1.0).code_and_args(), ("bundle_hint_sign", vec![]));
        assert_eq!(
            Hint::Scaled(0.5).code_and_args(),
            ("bundle_hint_scale", vec!["0.5".to_string()])
        );
        assert_eq!(Hint::Scaled(2.0).code_and_args().1, ["2"]);
        let shape = Hint::Shape("output_layer.weight".into(), vec![2, 4], vec![4, 2]);
        assert_eq!(shape.code_and_args().1, ["output_layer.weight", "[2, 4]", "[4, 2]"]);
    }
}
