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
        let equation = format!("{key} = {}: {}", act.equation(i), shape(s));
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

/// The backward pass's cards: what `backward_with(bug)` computed, from the top.
fn backward_cards(mlp: &Mlp<f64>, grad_output: &DMatrix<f64>, grads: &Grads<f64>, bug: Bug) -> Vec<TensorView> {
    let hidden = mlp.layers.len();
    let mut cards = vec![grad_output_card(grad_output, bug)];
    // dL/d of each layer's output, as the loop goes down; under the sign bug, flipped.
    let mut grad = if bug == Bug::GradOutputSign {
        -grad_output
    } else {
        grad_output.clone()
    };
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
        let reads_fc = bug == Bug::FcAsLayerInput && l > 0;
        let below = match l {
            0 => "input".to_string(),
            _ if reads_fc => format!("fc{}", l - 1),
            _ => format!("{}{}", mlp.activation.name(), l - 1),
        };
        let equation = format!(
            "{prefix}.weight.grad = gradᵀ @ {below}: ({},1)·(1,{}) → {}",
            layer.outputs(),
            layer.inputs(),
            shape(w)
        );
        let mut code = format!("self.{}.weight.grad = grad.T @ {below}", python_layer(l, hidden));
        if reads_fc {
            code += &format!("  # bug: the layer read {}{}", mlp.activation.name(), l - 1);
        }
        let shape_w = vec![w.nrows(), w.ncols()];
        let card = TensorView::new(format!("{prefix}.weight.grad"), w, shape_w, equation, &code);
        cards.push(card.broken_if(reads_fc));
        let column = DMatrix::from_column_slice(1, b.len(), b.as_slice());
        let (reduce, note) = match bug {
            Bug::BiasMean => ("mean", "  # bug: the loss already averages; sum(0)"),
            _ => ("sum", ""),
        };
        let equation = format!("{prefix}.bias.grad = grad.{reduce}(0): ({},)", b.len());
        let code = format!("self.{}.bias.grad = grad.{reduce}(0){note}", python_layer(l, hidden));
        let card = TensorView::new(format!("{prefix}.bias.grad"), &column, vec![b.len()], equation, &code);
        cards.push(card.broken_if(bug == Bug::BiasMean));
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
    let (right, code) = act.derivative_line(l);
    let missing = code.trim_start_matches("grad = grad ");
    match (bug, act) {
        (Bug::NoSigmoidDerivative, _) => (
            "grad = grad, the derivative left out".to_string(),
            format!("grad = grad  # bug: `{missing}` is missing"),
            true,
        ),
        (Bug::DerivativeFromFc, Activation::Sigmoid) => (
            format!("grad = grad * fc * (1 − fc), fc = fc{l}"),
            "grad = grad * fc * (1 - fc)  # bug: σ' needs s = σ(fc), not fc".to_string(),
            true,
        ),
        (Bug::DerivativeFromFc, Activation::Tanh) => (
            format!("grad = grad * (1 − fc²), fc = fc{l}"),
            "grad = grad * (1 - fc ** 2)  # bug: tanh' needs t = tanh(fc), not fc".to_string(),
            true,
        ),
        (Bug::DerivativeFromFc, Activation::Relu) => (
            format!("grad = grad * (r > 0), r = relu{l}"),
            "grad = grad * (r > 0)  # harmless: relu(fc) > 0 exactly where fc > 0".to_string(),
            false,
        ),
        (Bug::SigmoidDerivative, Activation::Relu | Activation::Tanh) => (
            format!("grad = grad * a * (1 − a), a = {}{l}", act.name()),
            format!("grad = grad * a * (1 - a)  # bug: the sigmoid's derivative; {code}"),
            true,
        ),
        _ => (format!("grad = {right}"), code.to_string(), false),
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
    let (grads, _) = match mlp.backward_sample(&cache, &grad_vector, bug) {
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
    let (grad, equation, code) = if bug == Bug::GradOutputSign {
        let flipped = -grad_output;
        (
            flipped,
            "grad_output = onehot(y) − probs",
            "grad_output = F.one_hot(y, 10) - probs  # bug: the sign flipped",
        )
    } else {
        (
            grad_output.clone(),
            "grad_output = probs − onehot(y)",
            "grad_output = probs - F.one_hot(y, 10)",
        )
    };
    TensorView::row("grad_output", &grad, format!("{equation}: {}", shape(&grad)), code)
        .broken_if(bug == Bug::GradOutputSign)
}

fn norm(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}
