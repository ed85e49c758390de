//! "Break the backward": classic mistakes in a hand-written backward pass. Each swaps one
//! line of [`Mlp::backward`] for a wrong one, so the gradient check can show which tensors
//! it spoils, and the step panel which line it wrote.
//!
//! Everything wrong lives here: [`Bug::broken_backward`] is `Mlp::backward` line for line,
//! each line picked by the bug once per layer (so a right line is the same code as
//! `Mlp::backward`'s, which a test holds to the bit), and the `*_line` methods give the
//! Python the step panel shows for a wrong line.

use crate::model::activation::Activation;
use crate::model::float::Float;
use crate::model::mlp::{sum_over_batch, Cache, Grads, LayerInput, LinearGrad, Mlp, Scope};
use nalgebra::{DMatrix, DVector};
use std::borrow::Cow;

/// One line of the backward pass, written wrong on purpose. `None` is the right pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bug {
    #[default]
    None,
    /// Skips `grad = grad * s * (1 - s)` (the activation's derivative, whichever it is).
    NoSigmoidDerivative,
    /// `grad = grad * fc * (1 - fc)`: the derivative taken from the pre-activation (for
    /// ReLU, from the output instead, which happens to be harmless).
    DerivativeFromFc,
    /// `grad = grad * s * (1 - s)` for a ReLU or tanh layer: the sigmoid's derivative
    /// copied from the notebook (harmless only in a sigmoid net).
    SigmoidDerivative,
    /// `bias.grad = grad.mean(0)` instead of `grad.sum(0)`.
    BiasMean,
    /// `weight.grad = grad.T @ fc{i-1}` instead of `grad.T @ sigmoid{i-1}`.
    FcAsLayerInput,
    /// `grad_output = target - prediction`: the sign flipped.
    GradOutputSign,
    /// The notebook's crash: with a 1-D sample, `grad.T @ x` is a dot product of two
    /// vectors of different lengths.
    Notebook1dTranspose,
}

impl Bug {
    /// Every bug, in the order the page lists them.
    pub const ALL: [Bug; 8] = [
        Bug::None,
        Bug::NoSigmoidDerivative,
        Bug::DerivativeFromFc,
        Bug::SigmoidDerivative,
        Bug::BiasMean,
        Bug::FcAsLayerInput,
        Bug::GradOutputSign,
        Bug::Notebook1dTranspose,
    ];

    /// The page's name for it (the select's value).
    pub fn code(self) -> &'static str {
        match self {
            Bug::None => "none",
            Bug::NoSigmoidDerivative => "no_sigmoid_derivative",
            Bug::DerivativeFromFc => "derivative_from_fc",
            Bug::SigmoidDerivative => "sigmoid_derivative",
            Bug::BiasMean => "bias_mean",
            Bug::FcAsLayerInput => "fc_as_layer_input",
            Bug::GradOutputSign => "grad_output_sign",
            Bug::Notebook1dTranspose => "notebook_1d_transpose",
        }
    }

    pub fn from_code(code: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|bug| bug.code() == code)
    }
}

/// A line of the backward pass as a bug writes it, for the step panel: its equation
/// (without shapes) and the notebook's Python with a `# bug` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongLine {
    pub equation: String,
    pub code: String,
    /// False when the line reads differently but computes the same (ReLU's derivative
    /// from its output): the card is not marked.
    pub broken: bool,
}

impl Bug {
    /// The backward pass as this bug writes it: [`Mlp::backward`] itself for `Bug::None`,
    /// else [`broken_backward`](Self::broken_backward).
    pub fn backward<T: Float>(
        self,
        mlp: &Mlp<T>,
        cache: &Cache<T>,
        grad_output: &DMatrix<T>,
        grads: &mut Grads<T>,
        scope: Scope,
    ) {
        match self {
            Bug::None => mlp.backward(cache, grad_output, grads, scope),
            bug => bug.broken_backward(mlp, cache, grad_output, grads, scope),
        }
    }

    /// [`Mlp::backward`] for one 1-D sample, as this bug writes it. Under
    /// [`Bug::Notebook1dTranspose`] it fails at its first line, as the notebook's 1-D
    /// `grad.T @ x` does.
    pub fn backward_sample<T: Float>(
        self,
        mlp: &Mlp<T>,
        cache: &Cache<T>,
        grad_output: &DVector<T>,
    ) -> Result<(Grads<T>, DVector<T>), ShapeCrash> {
        match self {
            Bug::None => Ok(mlp.backward_sample(cache, grad_output)),
            // output_layer.weight.grad = grad.T @ x, with grad: (out,) and x: (in,)
            Bug::Notebook1dTranspose => Err(ShapeCrash {
                grad_len: grad_output.len(),
                input_len: mlp.output_layer.inputs(),
            }),
            bug => {
                let mut grads = Grads::default();
                let grad_output = DMatrix::from_row_slice(1, grad_output.len(), grad_output.as_slice());
                bug.broken_backward(mlp, cache, &grad_output, &mut grads, Scope::Full);
                let input = grads.input.row(0).transpose();
                Ok((grads, input))
            }
        }
    }

    /// [`Mlp::backward`] with the one line this bug names written wrong: the same loop,
    /// each line chosen by the bug once per layer (no per-element branch). With
    /// `Bug::None` it computes what `Mlp::backward` does, to the bit.
    pub fn broken_backward<T: Float>(
        self,
        mlp: &Mlp<T>,
        cache: &Cache<T>,
        grad_output: &DMatrix<T>,
        grads: &mut Grads<T>,
        scope: Scope,
    ) {
        let hidden = mlp.layers.len();
        grads.layers.resize_with(hidden, LinearGrad::default);
        grads.fc.resize_with(hidden, || DMatrix::zeros(0, 0));
        let grad_output = self.grad_output(grad_output); // bug: grad_output = target - prediction
        for l in (0..=hidden).rev() {
            let (below, here) = grads.fc.split_at_mut(l);
            let grad = here.first().unwrap_or(&grad_output);
            let (layer, x) = (mlp.linear(l), self.layer_input(cache, l)); // bug: x = fc{l-1}
            let into = grads.layers.get_mut(l).unwrap_or(&mut grads.output_layer);
            if l > 0 || scope != Scope::AllButFirstWeight {
                layer.weight_grad(x, grad, &mut into.weight);
            }
            sum_over_batch(grad, &mut into.bias);
            if self == Bug::BiasMean {
                into.bias /= T::of(grad.nrows() as f64); // bug: layer.bias.grad = grad.mean(0)
            }
            if l == 0 && scope != Scope::Full {
                break;
            }
            let grad_below = below.last_mut().unwrap_or(&mut grads.input);
            layer.backward_input(grad, grad_below);
            if l > 0 {
                let (fc, s) = (&cache.fc[l - 1], &cache.activated[l - 1]);
                self.derivative(mlp.activation, grad_below, fc, s); // bug: see derivative
            }
        }
    }

    /// `grad = grad_output`, flipped under [`Bug::GradOutputSign`].
    pub fn grad_output<T: Float>(self, grad_output: &DMatrix<T>) -> Cow<'_, DMatrix<T>> {
        match self {
            Bug::GradOutputSign => Cow::Owned(-grad_output), // bug: grad_output = target - prediction
            _ => Cow::Borrowed(grad_output),
        }
    }

    /// What layer `l`'s weight gradient reads: `fc{l-1}` under [`Bug::FcAsLayerInput`].
    fn layer_input<'a, T: Float>(self, cache: &'a Cache<T>, l: usize) -> LayerInput<'a, T> {
        match self {
            Bug::FcAsLayerInput if l > 0 => LayerInput::Dense(&cache.fc[l - 1]), // bug: fc{l-1}, not sigmoid{l-1}
            _ => cache.layer_input(l),
        }
    }

    /// `grad = grad * s * (1 - s)` (or the layer's activation's derivative), as this bug
    /// writes it.   grad, fc, out: (B, width)
    fn derivative<T: Float>(self, act: Activation, grad: &mut DMatrix<T>, fc: &DMatrix<T>, out: &DMatrix<T>) {
        match self {
            Bug::NoSigmoidDerivative => {} // bug: the line skipped
            // bug: grad * fc * (1 - fc): the formula applied to the other cache entry (fc for
            // sigmoid and tanh; the output for ReLU, harmless as z > 0 exactly when relu(z) > 0)
            Bug::DerivativeFromFc => act.backward(grad, out, fc),
            Bug::SigmoidDerivative => Activation::Sigmoid.backward(grad, fc, out), // bug: s * (1 - s) for any activation
            _ => act.backward(grad, fc, out),
        }
    }

    /// The `grad_output` line as this bug writes it; `None` when it is right.
    pub fn grad_output_line(self) -> Option<WrongLine> {
        (self == Bug::GradOutputSign).then(|| WrongLine {
            equation: "grad_output = onehot(y) − probs".to_string(),
            code: "grad_output = F.one_hot(y, 10) - probs  # bug: the sign flipped".to_string(),
            broken: true,
        })
    }

    /// Layer `l`'s derivative line (`grad_fc{l}`) as this bug writes it, for a hidden
    /// activation `act` whose right Python is `right` (`grad = grad * s * (1 - s)`);
    /// `None` when it is right.
    pub fn derivative_line(self, act: Activation, l: usize, right: &str) -> Option<WrongLine> {
        let line = |equation: String, code: String, broken| WrongLine { equation, code, broken };
        match (self, act) {
            (Bug::NoSigmoidDerivative, _) => Some(line(
                "grad = grad, the derivative left out".to_string(),
                format!(
                    "grad = grad  # bug: `{}` is missing",
                    right.trim_start_matches("grad = grad ")
                ),
                true,
            )),
            (Bug::DerivativeFromFc, Activation::Sigmoid) => Some(line(
                format!("grad = grad * fc * (1 − fc), fc = fc{l}"),
                "grad = grad * fc * (1 - fc)  # bug: σ' needs s = σ(fc), not fc".to_string(),
                true,
            )),
            (Bug::DerivativeFromFc, Activation::Tanh) => Some(line(
                format!("grad = grad * (1 − fc²), fc = fc{l}"),
                "grad = grad * (1 - fc ** 2)  # bug: tanh' needs t = tanh(fc), not fc".to_string(),
                true,
            )),
            (Bug::DerivativeFromFc, Activation::Relu) => Some(line(
                format!("grad = grad * (r > 0), r = relu{l}"),
                "grad = grad * (r > 0)  # harmless: relu(fc) > 0 exactly where fc > 0".to_string(),
                false,
            )),
            (Bug::SigmoidDerivative, Activation::Relu | Activation::Tanh) => Some(line(
                format!("grad = grad * a * (1 − a), a = {}{l}", act.name()),
                format!("grad = grad * a * (1 - a)  # bug: the sigmoid's derivative; {right}"),
                true,
            )),
            _ => None,
        }
    }

    /// What layer `l`'s `weight.grad = grad.T @ x` reads as this bug writes it, and the
    /// comment that says so: `fc{l-1}` under [`Bug::FcAsLayerInput`]; `None` when right.
    pub fn weight_grad_input(self, act: Activation, l: usize) -> Option<(String, String)> {
        (self == Bug::FcAsLayerInput && l > 0).then(|| {
            let right = format!("{}{}", act.name(), l - 1);
            (format!("fc{}", l - 1), format!("  # bug: the layer read {right}"))
        })
    }

    /// The reduction of `bias.grad = grad.sum(0)` as this bug writes it, and its comment:
    /// `mean` under [`Bug::BiasMean`]; `None` when right.
    pub fn bias_grad_reduction(self) -> Option<(&'static str, &'static str)> {
        (self == Bug::BiasMean).then_some(("mean", "  # bug: the loss already averages; sum(0)"))
    }
}

/// The error PyTorch raises for [`Bug::Notebook1dTranspose`]: `grad` (out,) and the
/// layer's input (in,) are both 1-D, so `grad.T @ x` is a dot product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeCrash {
    /// The output layer's: the first line of the backward pass is where it crashes.
    pub grad_len: usize,
    pub input_len: usize,
}

impl ShapeCrash {
    /// What PyTorch prints for `torch.matmul` of two 1-D tensors of these lengths.
    pub fn pytorch_message(&self) -> String {
        let (g, x) = (self.grad_len, self.input_len);
        if g == x {
            // Same lengths: the dot product is a scalar, which `.grad` refuses.
            format!("RuntimeError: assigned grad has data of a different size (a scalar, for a weight of [{g}, {x}])")
        } else {
            format!(
                "RuntimeError: inconsistent tensor size, expected tensor [{g}] and src [{x}] to have the same number of elements, but got {g} and {x} elements respectively"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::loss::softmax_cross_entropy;
    use crate::model::mlp::Input;

    /// Every tensor of `grads`: parameters in `state_dict` order, `dL/dfc{i}`, `dL/dinput`.
    fn tensors<T: Float>(grads: &Grads<T>) -> Vec<DMatrix<T>> {
        let linears = grads.layers.iter().chain([&grads.output_layer]);
        let params = linears.flat_map(|g| {
            [
                g.weight.clone(),
                DMatrix::from_column_slice(g.bias.len(), 1, g.bias.as_slice()),
            ]
        });
        params
            .chain(grads.fc.iter().cloned())
            .chain([grads.input.clone()])
            .collect()
    }

    /// Every tensor the same shape and the same bits; else which one differs, and by how much.
    fn assert_same_bits<T: Float>(right: &Grads<T>, broken: &Grads<T>, what: &str) {
        let (right, broken) = (tensors(right), tensors(broken));
        assert_eq!(right.len(), broken.len(), "{what}: tensor count");
        for (i, (r, b)) in right.iter().zip(&broken).enumerate() {
            assert_eq!(r.shape(), b.shape(), "{what}: tensor {i}'s shape");
            let differ = r
                .iter()
                .zip(b.iter())
                .filter(|(r, b)| r.as_f64().to_bits() != b.as_f64().to_bits());
            let max = differ
                .map(|(r, b)| (r.as_f64() - b.as_f64()).abs())
                .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
            assert!(
                max.is_none(),
                "{what}: tensor {i} {:?} differs, by up to {max:?}",
                r.shape()
            );
        }
    }

    /// The right pass and the broken pass under `Bug::None`, on `x` (B, 12) through a
    /// 12-[7, 5]-4 net, every scope, each into fresh storage and into storage left by a
    /// batch of another size (the training step reuses it).
    fn same_to_the_bit<T: Float>(act: Activation, x: DMatrix<T>) {
        let mlp = Mlp::<T>::new(12, &[7, 5], 4, 11).with_activation(act);
        let labels: Vec<usize> = (0..x.nrows()).map(|r| (r * 3 + 1) % 4).collect();
        let cache = mlp.forward_batch(x);
        let mut grad_output = DMatrix::zeros(labels.len(), 4);
        softmax_cross_entropy(&cache.output, &labels, &mut grad_output);
        let other = mlp.forward_batch(DMatrix::from_fn(2, 12, |r, c| T::of((r + c) as f64 * 0.1)));
        let other_grad = DMatrix::from_element(2, 4, T::of(0.25));
        for scope in [Scope::Full, Scope::Params, Scope::AllButFirstWeight] {
            let (mut right, mut broken) = (Grads::default(), Grads::default());
            mlp.backward(&cache, &grad_output, &mut right, scope);
            Bug::None.broken_backward(&mlp, &cache, &grad_output, &mut broken, scope);
            assert!(!right.fc.is_empty() && right.output_layer.weight.len() == 20);
            assert_same_bits(&right, &broken, &format!("{act:?} {scope:?}, fresh storage"));
            let (mut right, mut broken) = (Grads::default(), Grads::default());
            mlp.backward(&other, &other_grad, &mut right, Scope::Full);
            Bug::None.broken_backward(&mlp, &other, &other_grad, &mut broken, Scope::Full);
            mlp.backward(&cache, &grad_output, &mut right, scope);
            Bug::None.broken_backward(&mlp, &cache, &grad_output, &mut broken, scope);
            assert_same_bits(&right, &broken, &format!("{act:?} {scope:?}, reused storage"));
        }
    }

    #[test]
    fn the_broken_pass_without_a_bug_is_the_right_pass_to_the_bit() {
        for act in Activation::ALL {
            // Dense, sparse (MNIST-like: mostly zeros, the training path), f32 and f64.
            let dense = |r: usize, c: usize| ((r * 7 + c * 5) % 11) as f64 / 5.0 - 1.0;
            let sparse = |r: usize, c: usize| {
                if (r + c).is_multiple_of(4) {
                    0.2 + c as f64 / 20.0
                } else {
                    0.0
                }
            };
            same_to_the_bit::<f64>(act, DMatrix::from_fn(6, 12, dense));
            same_to_the_bit::<f32>(act, DMatrix::from_fn(6, 12, |r, c| dense(r, c) as f32));
            let x = DMatrix::from_fn(6, 12, |r, c| sparse(r, c) as f32);
            assert!(matches!(Input::new(x.clone()), Input::Sparse(_)));
            same_to_the_bit::<f32>(act, x);
            // One 1-D sample, the notebook's Part 1.
            let mlp = Mlp::<f64>::new(12, &[7, 5], 4, 11).with_activation(act);
            let x = DVector::from_fn(12, |i, _| dense(1, i));
            let cache = mlp.forward_sample(&x);
            let grad_output = DVector::from_fn(4, |i, _| 0.5 - i as f64 * 0.3);
            let (right, right_input) = mlp.backward_sample(&cache, &grad_output);
            let mut broken = Grads::default();
            let row = DMatrix::from_row_slice(1, 4, grad_output.as_slice());
            Bug::None.broken_backward(&mlp, &cache, &row, &mut broken, Scope::Full);
            assert_same_bits(&right, &broken, &format!("{act:?}, one sample"));
            assert_eq!(right_input.as_slice(), broken.input.as_slice());
            let (dispatched, _) = Bug::None.backward_sample(&mlp, &cache, &grad_output).unwrap();
            assert_same_bits(&right, &dispatched, "Bug::None.backward_sample");
        }
    }

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for bug in Bug::ALL {
            assert_eq!(Bug::from_code(bug.code()), Some(bug));
        }
        assert_eq!(Bug::from_code("nonsense"), None);
        assert_eq!(Bug::default(), Bug::None);
    }

    #[test]
    fn the_bias_mean_is_the_sum_divided_by_the_batch() {
        let mlp = Mlp::<f64>::new(6, &[5], 3, 2);
        let cache = mlp.forward_batch(DMatrix::from_fn(4, 6, |r, c| (r * 6 + c) as f64 / 10.0 - 1.0));
        let grad_output = DMatrix::from_fn(4, 3, |r, c| (r + 2 * c) as f64 / 7.0 - 0.5);
        let (mut right, mut mean) = (Grads::default(), Grads::default());
        Bug::None.backward(&mlp, &cache, &grad_output, &mut right, Scope::Full);
        Bug::BiasMean.backward(&mlp, &cache, &grad_output, &mut mean, Scope::Full);
        assert_eq!(mean.output_layer.bias, &right.output_layer.bias / 4.0);
        assert_eq!(mean.layers[0].bias, &right.layers[0].bias / 4.0);
        assert_eq!(
            mean.layers[0].weight, right.layers[0].weight,
            "only the bias line changes"
        );
    }

    #[test]
    fn each_wrong_derivative_line_reads_as_written() {
        use Activation::{Relu, Sigmoid, Tanh};
        let right = |act| match act {
            Sigmoid => "grad = grad * s * (1 - s)",
            Relu => "grad = grad * (fc > 0)",
            Tanh => "grad = grad * (1 - t ** 2)",
        };
        let line = |bug: Bug, act| {
            bug.derivative_line(act, 1, right(act))
                .map(|w| (w.equation, w.code, w.broken))
        };
        let expected = [
            (
                Bug::NoSigmoidDerivative,
                Tanh,
                "grad = grad, the derivative left out",
                "grad = grad  # bug: `* (1 - t ** 2)` is missing",
                true,
            ),
            (
                Bug::DerivativeFromFc,
                Sigmoid,
                "grad = grad * fc * (1 − fc), fc = fc1",
                "grad = grad * fc * (1 - fc)  # bug: σ' needs s = σ(fc), not fc",
                true,
            ),
            (
                Bug::DerivativeFromFc,
                Tanh,
                "grad = grad * (1 − fc²), fc = fc1",
                "grad = grad * (1 - fc ** 2)  # bug: tanh' needs t = tanh(fc), not fc",
                true,
            ),
            (
                Bug::DerivativeFromFc,
                Relu,
                "grad = grad * (r > 0), r = relu1",
                "grad = grad * (r > 0)  # harmless: relu(fc) > 0 exactly where fc > 0",
                false,
            ),
            (
                Bug::SigmoidDerivative,
                Relu,
                "grad = grad * a * (1 − a), a = relu1",
                "grad = grad * a * (1 - a)  # bug: the sigmoid's derivative; grad = grad * (fc > 0)",
                true,
            ),
            (
                Bug::SigmoidDerivative,
                Tanh,
                "grad = grad * a * (1 − a), a = tanh1",
                "grad = grad * a * (1 - a)  # bug: the sigmoid's derivative; grad = grad * (1 - t ** 2)",
                true,
            ),
        ];
        for (bug, act, equation, code, broken) in expected {
            assert_eq!(
                line(bug, act),
                Some((equation.to_string(), code.to_string(), broken)),
                "{bug:?} {act:?}"
            );
        }
        for (bug, act) in [
            (Bug::None, Tanh),
            (Bug::SigmoidDerivative, Sigmoid),
            (Bug::BiasMean, Relu),
        ] {
            assert_eq!(line(bug, act), None, "{bug:?} {act:?} leaves the line right");
        }
    }

    #[test]
    fn the_crash_reads_as_pytorch_says_it() {
        let crash = ShapeCrash {
            grad_len: 2,
            input_len: 4,
        };
        assert!(crash.pytorch_message().contains("expected tensor [2] and src [4]"));
    }
}
