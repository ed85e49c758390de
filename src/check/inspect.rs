//! "Inside one step": every tensor that one training step computes for one sample,
//! under the notebook's names, each with its equation and the notebook's line. In f64,
//! from the model's weights, so the numbers are the maths' and not f32 rounding's.

use crate::model::activation::Activation;
use crate::model::bug::{Bug, ShapeCrash};
use crate::model::float::Float;
use crate::model::loss::{softmax, softmax_cross_entropy};
use crate::model::mlp::{Cache, Grads, Mlp};
use crate::model::optim::sgd_step;
use nalgebra::{DMatrix, DVector};

/// One card of the panel: a tensor and what explains it.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorView {
    /// The notebook's name: a cache key, `probs`, `loss`, `grad_output`,
    /// `grad_sigmoid{i}` / `grad_fc{i}` (dL/d of that cache entry), a parameter's
    /// `.grad`, or `grad_input`.
    pub name: String,
    /// PyTorch's shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// Row-major (C order), as PyTorch lists it.
    pub values: Vec<f64>,
    pub min: f64,
    pub max: f64,
    /// 2-norm.
    pub norm: f64,
    /// The equation with its shapes.
    pub equation: String,
    /// The notebook's Python that computes it.
    pub code: String,
    /// This card's line is the one the chosen [`Bug`] writes wrong.
    pub broken: bool,
}

impl TensorView {
    fn new(name: impl Into<String>, m: &DMatrix<f64>, shape: Vec<usize>, equation: String, code: &str) -> Self {
        let values: Vec<f64> = m.transpose().as_slice().to_vec(); // column-major to row-major
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        TensorView {
            name: name.into(),
            shape,
            norm: m.norm(),
            values,
            min,
            max,
            equation,
            code: code.to_string(),
            broken: false,
        }
    }

    /// The same card, marked as the line the bug changed when `broken`.
    fn broken_if(mut self, broken: bool) -> Self {
        self.broken = broken;
        self
    }

    /// A (1, n) batch of one.
    fn row(name: impl Into<String>, m: &DMatrix<f64>, equation: String, code: &str) -> Self {
        let shape = vec![m.nrows(), m.ncols()];
        Self::new(name, m, shape, equation, code)
    }
}

/// What [`apply_sgd`](StepView) finds: one SGD step on this sample alone.
#[derive(Clone, Debug, PartialEq)]
pub struct SgdStep {
    pub learning_rate: f64,
    pub loss_before: f64,
    pub loss_after: f64,
    /// `||lr * grad||` per parameter, in `state_dict` order.
    pub updates: Vec<(String, f64)>,
}

/// The whole step, as the panel shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct StepView {
    /// `input`, `fc{i}`, `sigmoid{i}`, ..., `output`, `probs`, `loss`.
    pub forward: Vec<TensorView>,
    /// `grad_output`, then each layer from the top; empty when the backward crashed.
    pub backward: Vec<TensorView>,
    pub label: usize,
    pub predicted: usize,
    pub loss: f64,
    /// The backward pass's 1-D crash, under [`Bug::Notebook1dTranspose`].
    pub crash: Option<ShapeCrash>,
    /// One SGD step with these gradients; none after a crash.
    pub sgd: Option<SgdStep>,
}

fn shape(m: &DMatrix<f64>) -> String {
    format!("({},{})", m.nrows(), m.ncols())
}

fn loss_of(mlp: &Mlp<f64>, x: &DVector<f64>, label: usize) -> (Cache<f64>, f64, DMatrix<f64>) {
    let cache = mlp.forward_sample(x);
    let mut grad_output = DMatrix::zeros(1, mlp.output_dim());
    let loss = softmax_cross_entropy(&cache.output, &[label], &mut grad_output);
    (cache, loss, grad_output)
}

/// The forward pass's cards, in the notebook's order.
fn forward_cards(mlp: &Mlp<f64>, cache: &Cache<f64>, label: usize, loss: f64) -> Vec<TensorView> {
    let mut cards = Vec::new();
    let input = cache.input.to_dense();
    cards.push(TensorView::row(
        "input",
        &input,
        format!("input: {}", shape(&input)),
        "self.activations[\"input\"] = x",
    ));
    let mut below = ("input".to_string(), shape(&input));
    for (i, layer) in mlp.layers.iter().enumerate() {
        let (fc, s, act) = (&cache.fc[i], &cache.activated[i], mlp.activation);
        let key = cache.activated_key(i);
        let w = &layer.weight;
        let equation = format!(
            "fc{i} = {} · W{i}ᵀ + b{i}: {}·({},{}) + ({})",
            below.0,
            below.1,
            w.ncols(),
            w.nrows(),
            w.nrows()
        );
        let code = format!("x = layer(x); self.activations[\"fc{i}\"] = x");
        cards.push(TensorView::row(format!("fc{i}"), fc, equation, &code));
        let equation = format!("{key} = {}: {}", activation_equation(act, i), shape(s));
        let code = format!("x = torch.{}(x); self.activations[\"{key}\"] = x", act.name());
        cards.push(TensorView::row(key.clone(), s, equation, &code));
        below = (key, shape(s));
    }
    let w = &mlp.output_layer.weight;
    let equation = format!(
        "output = {} · Woutᵀ + bout: {}·({},{}) + ({})",
        below.0,
        below.1,
        w.ncols(),
        w.nrows(),
        w.nrows()
    );
    let code = "x = self.output_layer(x); self.activations[\"output\"] = x";
    cards.push(TensorView::row("output", &cache.output, equation, code));
    let probs = DMatrix::from_row_slice(1, cache.output.ncols(), &softmax(cache.output.as_slice()));
    let equation = format!("probs = softmax(output) = e^output / Σ e^output: {}", shape(&probs));
    cards.push(TensorView::row(
        "probs",
        &probs,
        equation,
        "probs = torch.softmax(output, dim=1)",
    ));
    let equation = format!("loss = −log probs[{label}]: ()");
    let scalar = DMatrix::from_element(1, 1, loss);
    cards.push(TensorView::new(
        "loss",
        &scalar,
        vec![],
        equation,
        "loss = F.cross_entropy(output, y)",
    ));
    cards
}

/// The backward pass's cards: what `bug.backward` computed, from the top.
fn backward_cards(mlp: &Mlp<f64>, grad_output: &DMatrix<f64>, grads: &Grads<f64>, bug: Bug) -> Vec<TensorView> {
    let hidden = mlp.layers.len();
    let mut cards = vec![grad_output_card(grad_output, bug)];
    // dL/d of each layer's output, as the loop goes down; under the sign bug, flipped.
    let mut grad = bug.grad_output(grad_output).into_owned();
    for l in (0..=hidden).rev() {
        let (prefix, layer, into) = if l == hidden {
            ("output_layer".to_string(), &mlp.output_layer, &grads.output_layer)
        } else {
            (format!("layers.{l}"), &mlp.layers[l], &grads.layers[l])
        };
        if l < hidden {
            let above = &mlp.linear(l + 1).weight;
            let grad_activated = &grad * above;
            let equation = format!(
                "grad = grad @ W: {}·{} → {}",
                shape(&grad),
                shape(above),
                shape(&grad_activated)
            );
            let code = "grad = grad @ layer.weight";
            let key = format!("{}{l}", mlp.activation.name());
            cards.push(TensorView::row(format!("grad_{key}"), &grad_activated, equation, code));
            grad = grads.fc[l].clone();
            let (equation, code, broken) = derivative_text(mlp.activation, l, bug);
            let equation = format!("{equation}: {}", shape(&grad));
            cards.push(TensorView::row(format!("grad_fc{l}"), &grad, equation, &code).broken_if(broken));
        }
        let (w, b) = (&into.weight, &into.bias);
        let wrong_input = bug.weight_grad_input(mlp.activation, l);
        let (below, note) = match (l, wrong_input.clone()) {
            (_, Some(wrong)) => wrong,
            (0, None) => ("input".to_string(), String::new()),
            _ => (format!("{}{}", mlp.activation.name(), l - 1), String::new()),
        };
        let equation = format!(
            "{prefix}.weight.grad = gradᵀ @ {below}: ({},1)·(1,{}) → {}",
            layer.outputs(),
            layer.inputs(),
            shape(w)
        );
        let code = format!("self.{}.weight.grad = grad.T @ {below}{note}", python_layer(l, hidden));
        let shape_w = vec![w.nrows(), w.ncols()];
        let card = TensorView::new(format!("{prefix}.weight.grad"), w, shape_w, equation, &code);
        cards.push(card.broken_if(wrong_input.is_some()));
        let column = DMatrix::from_column_slice(1, b.len(), b.as_slice());
        let wrong_reduction = bug.bias_grad_reduction();
        let (reduce, note) = wrong_reduction.unwrap_or(("sum", ""));
        let equation = format!("{prefix}.bias.grad = grad.{reduce}(0): ({},)", b.len());
        let code = format!("self.{}.bias.grad = grad.{reduce}(0){note}", python_layer(l, hidden));
        let card = TensorView::new(format!("{prefix}.bias.grad"), &column, vec![b.len()], equation, &code);
        cards.push(card.broken_if(wrong_reduction.is_some()));
    }
    let first = if hidden > 0 { "layers.0" } else { "output_layer" };
    let w = &mlp.linear(0).weight;
    let equation = format!(
        "grad_input = grad @ {first}.weight: (1,{})·{} → {}",
        w.nrows(),
        shape(w),
        shape(&grads.input)
    );
    cards.push(TensorView::row(
        "grad_input",
        &grads.input,
        equation,
        "grad = grad @ layer.weight",
    ));
    cards
}

/// The card `grad_fc{l}`'s equation and Python, and whether `bug` writes it wrong.
fn derivative_text(act: Activation, l: usize, bug: Bug) -> (String, String, bool) {
    let (right, code) = derivative_line(act, l);
    match bug.derivative_line(act, l, code) {
        Some(wrong) => (wrong.equation, wrong.code, wrong.broken),
        None => (format!("grad = {right}"), code.to_string(), false),
    }
}

/// `fc{i}` through the activation, as an equation: `σ(fc0) = 1 / (1 + e^(−fc0))`.
fn activation_equation(act: Activation, i: usize) -> String {
    match act {
        Activation::Sigmoid => format!("σ(fc{i}) = 1 / (1 + e^(−fc{i}))"),
        Activation::Relu => format!("max(fc{i}, 0)"),
        Activation::Tanh => format!("tanh(fc{i})"),
    }
}

/// The backward line that multiplies by the activation's derivative, as equation and
/// Python, for layer i: `grad * s * (1 − s), s = sigmoid0` and `grad = grad * s * (1 - s)`.
fn derivative_line(act: Activation, i: usize) -> (String, &'static str) {
    match act {
        Activation::Sigmoid => (
            format!("grad * s * (1 − s), s = sigmoid{i}"),
            "grad = grad * s * (1 - s)",
        ),
        Activation::Relu => (format!("grad * (fc > 0), fc = fc{i}"), "grad = grad * (fc > 0)"),
        Activation::Tanh => (format!("grad * (1 − t²), t = tanh{i}"), "grad = grad * (1 - t ** 2)"),
    }
}

fn python_layer(l: usize, hidden: usize) -> String {
    if l == hidden {
        "output_layer".to_string()
    } else {
        format!("layers[{l}]")
    }
}

/// Look inside one training step of `mlp` on the sample `x` (in,) with class `label`:
/// forward, cross-entropy, the backward pass broken by `bug` (or not), and one SGD
/// step of `learning_rate` on this sample alone.
pub fn inspect<T: Float>(mlp: &Mlp<T>, x: &[T], label: usize, bug: Bug, learning_rate: f64) -> StepView {
    let mlp: Mlp<f64> = mlp.cast();
    let x = DVector::from_iterator(x.len(), x.iter().map(|v| v.as_f64()));
    let (cache, loss, grad_output) = loss_of(&mlp, &x, label);
    let predicted = cache.output.row(0).transpose().imax();
    let forward = forward_cards(&mlp, &cache, label, loss);
    let grad_vector = DVector::from_column_slice(grad_output.as_slice());
    let (grads, _) = match bug.backward_sample(&mlp, &cache, &grad_vector) {
        Ok(done) => done,
        Err(crash) => {
            let backward = vec![grad_output_card(&grad_output, bug)];
            let (sgd, crash) = (None, Some(crash));
            return StepView {
                forward,
                backward,
                label,
                predicted,
                loss,
                crash,
                sgd,
            };
        }
    };
    let backward = backward_cards(&mlp, &grad_output, &grads, bug);
    let mut stepped = mlp.clone();
    sgd_step(&mut stepped, &grads, learning_rate); // optimizer.step()
    let (_, loss_after, _) = loss_of(&stepped, &x, label);
    let names = mlp.param_info().into_iter().map(|p| p.name);
    let updates = names
        .zip(grads.params())
        .map(|(name, g)| (name, learning_rate * norm(g)))
        .collect();
    let sgd = Some(SgdStep {
        learning_rate,
        loss_before: loss,
        loss_after,
        updates,
    });
    StepView {
        forward,
        backward,
        label,
        predicted,
        loss,
        crash: None,
        sgd,
    }
}

/// dL/doutput, as `bug` computes it.
fn grad_output_card(grad_output: &DMatrix<f64>, bug: Bug) -> TensorView {
    let grad = bug.grad_output(grad_output);
    let (equation, code, broken) = match bug.grad_output_line() {
        Some(wrong) => (wrong.equation, wrong.code, wrong.broken),
        None => (
            "grad_output = probs − onehot(y)".to_string(),
            "grad_output = probs - F.one_hot(y, 10)".to_string(),
            false,
        ),
    };
    TensorView::row("grad_output", &grad, format!("{equation}: {}", shape(&grad)), &code).broken_if(broken)
}

fn norm(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_activation_reads_as_its_equation_and_the_notebooks_line() {
        let lines: Vec<_> = Activation::ALL
            .into_iter()
            .map(|act| (activation_equation(act, 2), derivative_line(act, 2)))
            .collect();
        let expected = [
            (
                "σ(fc2) = 1 / (1 + e^(−fc2))",
                ("grad * s * (1 − s), s = sigmoid2", "grad = grad * s * (1 - s)"),
            ),
            ("max(fc2, 0)", ("grad * (fc > 0), fc = fc2", "grad = grad * (fc > 0)")),
            (
                "tanh(fc2)",
                ("grad * (1 − t²), t = tanh2", "grad = grad * (1 - t ** 2)"),
            ),
        ];
        for ((equation, (derivative, code)), (want_equation, (want_derivative, want_code))) in
            lines.iter().zip(expected)
        {
            assert_eq!(
                (equation.as_str(), derivative.as_str(), *code),
                (want_equation, want_derivative, want_code)
            );
        }
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn a_right_derivative_card_reads_as_the_notebook_and_a_wrong_one_as_the_bug() {
        let right = derivative_text(Activation::Tanh, 1, Bug::None);
        let want = ("grad = grad * (1 − t²), t = tanh1", "grad = grad * (1 - t ** 2)", false);
        assert_eq!((right.0.as_str(), right.1.as_str(), right.2), want);
        let skipped = derivative_text(Activation::Tanh, 1, Bug::NoSigmoidDerivative);
        assert_eq!(skipped.1, "grad = grad  # bug: `* (1 - t ** 2)` is missing");
        assert!(skipped.2);
    }
}
