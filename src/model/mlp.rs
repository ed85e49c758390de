//! `Mlp`: the notebook's `CustomMLP(input_dim, hidden_dims, output_dim)`,
//! `{Linear -> Sigmoid} x len(hidden_dims) -> Linear`, with a hand-written backward pass.
//! The hidden activation may also be ReLU or tanh ([`Activation`]).
//!
//! Read it beside the notebook. `forward` fills a [`Cache`] under the notebook's keys
//! (`input`, `fc{i}`, `sigmoid{i}` (or `relu{i}`, `tanh{i}`), `output`); `backward(grad_output)` reads it and
//! fills [`Grads`]. Each line of either carries the notebook's Python as its comment.
//! Shapes follow PyTorch: a batch is `(B, features)`, a weight `(out, in)`.

use crate::kernels::{resize, sparse, Nonzeros};
use crate::model::activation::Activation;
use crate::model::float::Float;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use std::borrow::Cow;

/// The most hidden layers a model may have: deeper sigmoid nets do not learn, and each
/// layer costs the page time however narrow it is.
pub const MAX_LAYERS: usize = 64;

/// The most weights and biases a model may have (two hidden layers of 4096 fit): 100 MB
/// of them, as much again for their gradients, and a third of a second per batch in the
/// browser. Much more stalls the page while it initialises, and can run out of wasm's 4 GB.
pub const MAX_PARAMETERS: usize = 25_000_000;

/// The batch the network reads, x: (B, in). An MNIST batch is mostly blank paper, so
/// it is kept as its nonzero entries and the first layer visits only those; any other
/// batch stays dense. Both forms hold the same numbers.
#[derive(Clone, Debug)]
pub enum Input<T: Float> {
    Dense(DMatrix<T>),
    Sparse(Nonzeros<T>),
}

impl<T: Float> Input<T> {
    /// x, listed by its nonzeros when at most half of it is nonzero.
    pub fn new(x: DMatrix<T>) -> Self {
        let mut nonzeros = Nonzeros::default();
        nonzeros.gather(&x);
        if nonzeros.is_sparse() {
            Input::Sparse(nonzeros)
        } else {
            Input::Dense(x)
        }
    }

    /// x: (B, in) as a dense matrix (written out when sparse).
    pub fn to_dense(&self) -> Cow<'_, DMatrix<T>> {
        match self {
            Input::Dense(x) => Cow::Borrowed(x),
            Input::Sparse(x) => {
                let mut dense = DMatrix::zeros(0, 0);
                x.write_dense(&mut dense);
                Cow::Owned(dense)
            }
        }
    }

    fn as_layer_input(&self) -> LayerInput<'_, T> {
        match self {
            Input::Dense(x) => LayerInput::Dense(x),
            Input::Sparse(x) => LayerInput::Sparse(x),
        }
    }
}

/// What a [`Linear`] reads: the network's input or the activations below it.
#[derive(Clone, Copy)]
pub(crate) enum LayerInput<'a, T: Float> {
    Dense(&'a DMatrix<T>),
    Sparse(&'a Nonzeros<T>),
}

impl<T: Float> LayerInput<'_, T> {
    fn batch_size(&self) -> usize {
        match self {
            LayerInput::Dense(x) => x.nrows(),
            LayerInput::Sparse(x) => x.samples(),
        }
    }
}

/// One affine layer, as `nn.Linear`.   weight: (out, in), bias: (out,)
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<T: Float> {
    pub weight: DMatrix<T>,
    pub bias: DVector<T>,
}

/// The gradients of one [`Linear`], same shapes as its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearGrad<T: Float> {
    pub weight: DMatrix<T>,
    pub bias: DVector<T>,
}

impl<T: Float> Linear<T> {
    /// Uniform in `+-1/sqrt(fan_in)`, weights and bias alike, as `nn.Linear`.
    pub fn init(inputs: usize, outputs: usize, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (inputs as f64).sqrt();
        let mut draw = || T::of(rng.random_range(-bound..bound));
        let weight = DMatrix::from_fn(outputs, inputs, |_, _| draw());
        let bias = DVector::from_fn(outputs, |_, _| draw());
        Linear { weight, bias }
    }

    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// h = x W^T + b.   x: (B, in), h: (B, out)
    fn forward(&self, x: LayerInput<'_, T>, h: &mut DMatrix<T>) {
        resize(h, x.batch_size(), self.outputs());
        match x {
            LayerInput::Dense(x) => T::x_wt(x, &self.weight, h),
            LayerInput::Sparse(x) => sparse::x_wt(x, &self.weight, h),
        }
        // Column by column on the storage: nalgebra's element iterators do not vectorise.
        let batch = h.nrows().max(1);
        for (column, &b) in h.as_mut_slice().chunks_exact_mut(batch).zip(self.bias.as_slice()) {
            column.iter_mut().for_each(|h| *h += b);
        }
    }

    /// weight.grad = grad^T x.   grad: (B, out), x: (B, in), into: (out, in)
    pub(crate) fn weight_grad(&self, x: LayerInput<'_, T>, grad: &DMatrix<T>, into: &mut DMatrix<T>) {
        resize(into, self.outputs(), self.inputs());
        match x {
            LayerInput::Dense(x) => T::gt_x(grad, x, into),
            LayerInput::Sparse(x) => sparse::gt_x(grad, x, into),
        }
    }

    /// dL/dx = grad W.   grad: (B, out), dx: (B, in)
    pub(crate) fn backward_input(&self, grad: &DMatrix<T>, dx: &mut DMatrix<T>) {
        resize(dx, grad.nrows(), self.inputs());
        T::g_w(grad, &self.weight, dx);
    }
}

/// bias.grad = grad.sum(0): (B, out) -> (out,)
pub(crate) fn sum_over_batch<T: Float>(grad: &DMatrix<T>, into: &mut DVector<T>) {
    let (rows, cols) = grad.shape();
    if into.len() != cols {
        *into = DVector::zeros(cols);
    }
    for (o, db) in into.as_mut_slice().iter_mut().enumerate() {
        *db = grad.as_slice()[o * rows..][..rows]
            .iter()
            .fold(T::zero(), |sum, &v| sum + v);
    }
}

/// What the forward pass keeps for the backward pass: the notebook's `self.activations`.
#[derive(Clone, Debug)]
pub struct Cache<T: Float> {
    /// `input`: (B, in)
    pub input: Input<T>,
    /// `fc{i}`: `(B, hidden_i)`, the pre-activations
    pub fc: Vec<DMatrix<T>>,
    /// `sigmoid{i}` (`relu{i}`, `tanh{i}`): `(B, hidden_i)`, the activations
    pub activated: Vec<DMatrix<T>>,
    /// Which activation made them: it names them.
    pub activation: Activation,
    /// `output`: (B, out), the logits
    pub output: DMatrix<T>,
}

impl<T: Float> Cache<T> {
    /// A cache holding the batch x; `Mlp::forward` fills the rest.
    pub fn of(input: Input<T>) -> Self {
        Cache {
            input,
            fc: Vec::new(),
            activated: Vec::new(),
            activation: Activation::Sigmoid,
            output: DMatrix::zeros(0, 0),
        }
    }

    /// `self.activations[key]`, by the notebook's cache key.
    pub fn get(&self, key: &str) -> Option<Cow<'_, DMatrix<T>>> {
        let index = |prefix: &str| key.strip_prefix(prefix)?.parse::<usize>().ok();
        match key {
            "input" => Some(self.input.to_dense()),
            "output" => Some(Cow::Borrowed(&self.output)),
            _ => match (index("fc"), index(self.activation.name())) {
                (Some(i), _) => self.fc.get(i).map(Cow::Borrowed),
                (_, Some(i)) => self.activated.get(i).map(Cow::Borrowed),
                _ => None,
            },
        }
    }

    /// `sigmoid{i}`, `relu{i}` or `tanh{i}`: the key of the activations of layer i.
    pub fn activated_key(&self, i: usize) -> String {
        format!("{}{i}", self.activation.name())
    }

    /// What layer `l` reads: the input for layer 0, else `sigmoid{l-1}`.
    pub(crate) fn layer_input(&self, l: usize) -> LayerInput<'_, T> {
        match l {
            0 => self.input.as_layer_input(),
            _ => LayerInput::Dense(&self.activated[l - 1]),
        }
    }
}

/// Every gradient the backward pass produces.
#[derive(Clone, Debug, Default)]
pub struct Grads<T: Float> {
    /// `layers.{i}`: same shapes as the hidden layers
    pub layers: Vec<LinearGrad<T>>,
    /// `output_layer`
    pub output_layer: LinearGrad<T>,
    /// `dL/dfc{i}`: `(B, hidden_i)` (on its way, `dL/dsigmoid{i}`)
    pub fc: Vec<DMatrix<T>>,
    /// dL/dinput: (B, in); computed by [`Scope::Full`]
    pub input: DMatrix<T>,
}

impl<T: Float> Default for LinearGrad<T> {
    fn default() -> Self {
        LinearGrad {
            weight: DMatrix::zeros(0, 0),
            bias: DVector::zeros(0),
        }
    }
}

impl<T: Float> Grads<T> {
    /// Every parameter gradient, in `state_dict` order (as [`Mlp::params_mut`]).
    pub fn params(&self) -> impl Iterator<Item = &[T]> {
        let linears = self.layers.iter().chain([&self.output_layer]);
        linears.flat_map(|g| [g.weight.as_slice(), g.bias.as_slice()])
    }
}

/// How much [`Mlp::backward`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every parameter's gradient and dL/dinput: the gradient check's view.
    Full,
    /// Every parameter's gradient, not dL/dinput (which no update reads): the training
    /// step of an optimiser with state, `train::train_step_plain`.
    Params,
    /// All but the first layer's weight gradient and dL/dinput: the training step
    /// (`train::train_step`) sums that gradient and applies it in one pass.
    AllButFirstWeight,
}

/// The notebook's `CustomMLP(input_dim, hidden_dims, output_dim)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Float> {
    /// `layers.{i}`: Linear followed by the activation
    pub layers: Vec<Linear<T>>,
    /// `output_layer`: Linear, no activation
    pub output_layer: Linear<T>,
    /// The hidden layers' activation: sigmoid in the notebook.
    pub activation: Activation,
}

/// How many weights and biases an Mlp of these widths has: (in + 1) x out a layer.
pub fn parameter_count(input_dim: usize, hidden_dims: &[usize], output_dim: usize) -> usize {
    let widths = [&[input_dim][..], hidden_dims, &[output_dim]].concat();
    widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum()
}

/// A parameter tensor's `state_dict` name and PyTorch shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: String,
    pub shape: Vec<usize>,
}

impl<T: Float> Mlp<T> {
    /// A model initialised like `nn.Linear`, drawn from the random seed `seed`.
    pub fn new(input_dim: usize, hidden_dims: &[usize], output_dim: usize, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut fan_in = input_dim;
        let mut layers = Vec::with_capacity(hidden_dims.len());
        for &width in hidden_dims {
            layers.push(Linear::init(fan_in, width, &mut rng));
            fan_in = width;
        }
        let output_layer = Linear::init(fan_in, output_dim, &mut rng);
        Mlp {
            layers,
            output_layer,
            activation: Activation::Sigmoid,
        }
    }

    /// The same layers with another hidden activation.
    pub fn with_activation(self, activation: Activation) -> Self {
        Mlp { activation, ..self }
    }

    /// The same model in another precision (f32 weights widen to f64 exactly).
    pub fn cast<U: Float>(&self) -> Mlp<U> {
        let cast = |l: &Linear<T>| Linear {
            weight: l.weight.map(|v| U::of(v.as_f64())),
            bias: l.bias.map(|v| U::of(v.as_f64())),
        };
        Mlp {
            layers: self.layers.iter().map(cast).collect(),
            output_layer: cast(&self.output_layer),
            activation: self.activation,
        }
    }

    pub fn output_dim(&self) -> usize {
        self.output_layer.outputs()
    }

    /// Layer `l` of `layers` then `output_layer`: the output layer is layer `len(layers)`.
    pub fn linear(&self, l: usize) -> &Linear<T> {
        self.layers.get(l).unwrap_or(&self.output_layer)
    }

    /// `forward(x)`, with x already in `cache.input`: fills the rest of the cache,
    /// reusing its storage.
    pub fn forward(&self, cache: &mut Cache<T>) {
        let Cache {
            input,
            fc,
            activated,
            activation,
            output,
        } = cache;
        *activation = self.activation;
        fc.resize_with(self.layers.len(), || DMatrix::zeros(0, 0));
        activated.resize_with(self.layers.len(), || DMatrix::zeros(0, 0));
        let mut x = input.as_layer_input(); // self.activations["input"] = x
        for ((layer, fc_i), out_i) in self.layers.iter().zip(fc).zip(activated) {
            layer.forward(x, fc_i); // x = layer(x); self.activations[f"fc{i}"] = x
            resize(out_i, fc_i.nrows(), fc_i.ncols());
            self.activation.forward(fc_i, out_i); // x = torch.sigmoid(x); self.activations[f"sigmoid{i}"] = x
            x = LayerInput::Dense(out_i);
        }
        self.output_layer.forward(x, output); // x = self.output_layer(x); self.activations["output"] = x
    }

    /// Forward a batch x: (B, in); the cache's `output` is (B, out).
    pub fn forward_batch(&self, x: DMatrix<T>) -> Cache<T> {
        let mut cache = Cache::of(Input::new(x));
        self.forward(&mut cache);
        cache
    }

    /// Forward one 1-D sample x: (in,), as a batch of one (the notebook's Part 1).
    pub fn forward_sample(&self, x: &DVector<T>) -> Cache<T> {
        self.forward_batch(DMatrix::from_row_slice(1, x.len(), x.as_slice()))
    }

    /// `backward(grad_output)`: from `grad_output = dL/doutput` (B, out), through the
    /// cache of the same batch, into `grads` (its storage reused). One loop from the top:
    /// layer `l` is `layers[l]`, and `l = len(layers)` is the output layer. Each line
    /// carries the notebook's `CustomMLP.backward` beside it; `scope` only stops early.
    pub fn backward(&self, cache: &Cache<T>, grad_output: &DMatrix<T>, grads: &mut Grads<T>, scope: Scope) {
        let hidden = self.layers.len();
        grads.layers.resize_with(hidden, LinearGrad::default);
        grads.fc.resize_with(hidden, || DMatrix::zeros(0, 0));
        for l in (0..=hidden).rev() {
            // grads.fc[l] is dL/dfc{l}, left by the layer above; `below` holds the layers under it.
            let (below, here) = grads.fc.split_at_mut(l);
            let grad = here.first().unwrap_or(grad_output); // grad = grad_output (at the top)
            let (layer, x) = (self.linear(l), cache.layer_input(l)); // x: the input, or sigmoid{l-1}
            let into = grads.layers.get_mut(l).unwrap_or(&mut grads.output_layer);
            // Training's fused step (`train::train_step`) sums and applies layers.0's itself.
            if l > 0 || scope != Scope::AllButFirstWeight {
                layer.weight_grad(x, grad, &mut into.weight); // layer.weight.grad = grad.T @ x
            }
            sum_over_batch(grad, &mut into.bias); // layer.bias.grad = grad.sum(0)
            if l == 0 && scope != Scope::Full {
                break; // dL/dinput: nothing trains on it
            }
            let grad_below = below.last_mut().unwrap_or(&mut grads.input);
            layer.backward_input(grad, grad_below); // grad = grad @ layer.weight
            if l > 0 {
                let (fc, s) = (&cache.fc[l - 1], &cache.activated[l - 1]);
                self.activation.backward(grad_below, fc, s); // grad = grad * s * (1 - s)
            }
        }
    }

    /// `backward` for one 1-D sample (the notebook's Part 1), as a batch of one:
    /// the gradients, and dL/dinput as (in,).
    pub fn backward_sample(&self, cache: &Cache<T>, grad_output: &DVector<T>) -> (Grads<T>, DVector<T>) {
        let mut grads = Grads::default();
        let grad_output = DMatrix::from_row_slice(1, grad_output.len(), grad_output.as_slice());
        self.backward(cache, &grad_output, &mut grads, Scope::Full);
        let input = grads.input.row(0).transpose();
        (grads, input)
    }

    /// Every layer with its `state_dict` prefix (`layers.{i}`, `output_layer`), in order.
    fn linears(&self) -> impl Iterator<Item = (String, &Linear<T>)> {
        let hidden = self.layers.iter().enumerate().map(|(i, l)| (format!("layers.{i}"), l));
        hidden.chain(std::iter::once(("output_layer".to_string(), &self.output_layer)))
    }

    /// Names and shapes of every parameter tensor, in `state_dict` order.
    pub fn param_info(&self) -> Vec<ParamInfo> {
        self.linears()
            .flat_map(|(prefix, l)| {
                [
                    ParamInfo {
                        name: format!("{prefix}.weight"),
                        shape: vec![l.outputs(), l.inputs()],
                    },
                    ParamInfo {
                        name: format!("{prefix}.bias"),
                        shape: vec![l.outputs()],
                    },
                ]
            })
            .collect()
    }

    /// Every parameter's storage, in `state_dict` order (column-major within a tensor).
    /// Walked, not collected: the training step calls this every batch.
    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        let linears = self.layers.iter_mut().chain([&mut self.output_layer]);
        linears.flat_map(|l| [l.weight.as_mut_slice(), l.bias.as_mut_slice()])
    }

    /// `state_dict()`: every parameter's name, shape and values in row-major (C) order,
    /// as PyTorch stores them; [`set_param`](Self::set_param) reads them back.
    pub fn state_dict(&self) -> Vec<(ParamInfo, Vec<T>)> {
        let linears = self.layers.iter().chain([&self.output_layer]);
        let values = linears.flat_map(|l| [l.weight.transpose().as_slice().to_vec(), l.bias.as_slice().to_vec()]);
        self.param_info().into_iter().zip(values).collect()
    }

    /// Set one parameter from a row-major (C order) tensor, as PyTorch stores it.
    pub fn set_param(&mut self, name: &str, shape: &[usize], row_major: &[T]) -> Result<(), String> {
        let (prefix, kind) = name
            .rsplit_once('.')
            .ok_or_else(|| format!("`{name}` is not a parameter name"))?;
        let layer = if prefix == "output_layer" {
            &mut self.output_layer
        } else {
            let i: usize = prefix
                .strip_prefix("layers.")
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| format!("`{name}` is not a parameter name"))?;
            self.layers
                .get_mut(i)
                .ok_or_else(|| format!("`{name}`: the model has no layer {i}"))?
        };
        let (expected, target) = match kind {
            "weight" => (vec![layer.outputs(), layer.inputs()], layer.weight.as_mut_slice()),
            "bias" => (vec![layer.outputs()], layer.bias.as_mut_slice()),
            _ => return Err(format!("`{name}` is not a parameter name")),
        };
        if shape != expected.as_slice() || row_major.len() != target.len() {
            return Err(format!("`{name}`: shape {shape:?}, the model wants {expected:?}"));
        }
        let rows = expected[0];
        let cols = expected.get(1).copied().unwrap_or(1);
        for r in 0..rows {
            for c in 0..cols {
                target[r + c * rows] = row_major[r * cols + c];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::loss::mse;

    #[test]
    fn sparse_first_layer_matches_finite_differences() {
        // Mostly-zero input, a whole zero column (feature 3) included: the sparse path.
        let x = DMatrix::from_fn(5, 12, |r, c| {
            if c == 3 || (r * 5 + c * 3) % 4 != 0 {
                0.0
            } else {
                0.3 + 0.1 * (r + c) as f64
            }
        });
        let y = DMatrix::from_fn(5, 3, |r, c| ((r + 2 * c) % 3) as f64 * 0.5);
        let mut mlp = Mlp::<f64>::new(12, &[6], 3, 9);
        let cache = mlp.forward_batch(x.clone());
        assert!(
            matches!(cache.input, Input::Sparse(_)),
            "the test must take the sparse path"
        );
        assert_eq!(*cache.get("input").unwrap(), x, "the cache holds the real batch");
        let (mut g, mut grads) = (DMatrix::zeros(5, 3), Grads::default());
        mse(&cache.output, &y, &mut g);
        mlp.backward(&cache, &g, &mut grads, Scope::Full);
        let loss = |mlp: &Mlp<f64>| mse(&mlp.forward_batch(x.clone()).output, &y, &mut DMatrix::zeros(5, 3));
        for (o, i) in [(0, 0), (2, 3), (5, 8), (4, 11)] {
            let original = mlp.layers[0].weight[(o, i)];
            mlp.layers[0].weight[(o, i)] = original + 1e-6;
            let up = loss(&mlp);
            mlp.layers[0].weight[(o, i)] = original - 1e-6;
            let down = loss(&mlp);
            mlp.layers[0].weight[(o, i)] = original;
            let numeric = (up - down) / 2e-6;
            let analytic = grads.layers[0].weight[(o, i)];
            assert!(
                (numeric - analytic).abs() < 1e-8,
                "dW[{o}, {i}]: {analytic} vs {numeric}"
            );
        }
        assert!(grads.layers[0].weight.column(3).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn shapes_and_names_follow_the_notebook() {
        let mlp = Mlp::<f64>::new(32, &[16, 4], 2, 0);
        let names: Vec<_> = mlp.param_info().into_iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias",
                "output_layer.weight",
                "output_layer.bias"
            ]
        );
        let cache = mlp.forward_batch(DMatrix::from_element(3, 32, 0.5));
        assert_eq!(cache.get("input").unwrap().shape(), (3, 32));
        assert_eq!(cache.get("fc0").unwrap().shape(), (3, 16));
        assert_eq!(cache.get("sigmoid1").unwrap().shape(), (3, 4));
        assert_eq!(cache.get("output").unwrap().shape(), (3, 2));
        assert!(cache.get("fc2").is_none());
        let stored: usize = mlp.param_info().iter().map(|p| p.shape.iter().product::<usize>()).sum();
        assert_eq!((stored, parameter_count(32, &[16, 4], 2)), (606, 606));
        assert_eq!(parameter_count(784, &[], 10), 7850);
    }

    #[test]
    fn a_sample_is_a_batch_of_one() {
        let mlp = Mlp::<f64>::new(5, &[4], 3, 2);
        let x = DVector::from_fn(5, |i, _| i as f64 * 0.3 - 0.5);
        let cache = mlp.forward_sample(&x);
        assert_eq!(cache.output.shape(), (1, 3));
        let grad_output = DVector::from_fn(3, |i, _| 1.0 - i as f64);
        let (grads, grad_input) = mlp.backward_sample(&cache, &grad_output);
        assert_eq!(grad_input.len(), 5);
        let mut batch_grads = Grads::default();
        let batch = mlp.forward_batch(DMatrix::from_row_slice(1, 5, x.as_slice()));
        let grad_batch = DMatrix::from_row_slice(1, 3, grad_output.as_slice());
        mlp.backward(&batch, &grad_batch, &mut batch_grads, Scope::Full);
        assert!(grads.params().eq(batch_grads.params()));
        assert_eq!(grad_input.as_slice(), batch_grads.input.as_slice());
    }

    #[test]
    fn init_is_uniform_within_one_over_sqrt_fan_in() {
        let mlp = Mlp::<f64>::new(784, &[256], 10, 7);
        let bound = 1.0 / 784f64.sqrt();
        let w = &mlp.layers[0].weight;
        assert!(w.iter().all(|v| v.abs() <= bound));
        // A uniform draw on [-b, b] has mean 0 and variance b^2 / 3.
        let n = w.len() as f64;
        let mean = w.sum() / n;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.05 * bound);
        assert!(
            (var / (bound * bound / 3.0) - 1.0).abs() < 0.02,
            "variance ratio {}",
            var / (bound * bound / 3.0)
        );
    }

    #[test]
    fn state_dict_is_row_major_and_set_param_reads_it_back() {
        let mlp = Mlp::<f64>::new(3, &[2], 4, 5);
        let dict = mlp.state_dict();
        let (info, w0) = &dict[0];
        assert_eq!(
            (info.name.as_str(), info.shape.as_slice()),
            ("layers.0.weight", &[2, 3][..])
        );
        assert_eq!(w0[1], mlp.layers[0].weight[(0, 1)], "row 0, column 1");
        assert_eq!(w0[3], mlp.layers[0].weight[(1, 0)], "row 1, column 0");
        let mut copy = Mlp::<f64>::new(3, &[2], 4, 6);
        for (info, values) in &dict {
            copy.set_param(&info.name, &info.shape, values).unwrap();
        }
        assert_eq!(copy, mlp);
    }

    #[test]
    fn set_param_reads_row_major_and_refuses_bad_shapes() {
        let mut mlp = Mlp::<f64>::new(3, &[], 2, 0);
        mlp.set_param("output_layer.weight", &[2, 3], &[1., 2., 3., 4., 5., 6.])
            .unwrap();
        assert_eq!(mlp.output_layer.weight[(0, 2)], 3.0);
        assert_eq!(mlp.output_layer.weight[(1, 0)], 4.0);
        assert!(mlp.set_param("output_layer.weight", &[3, 2], &[0.; 6]).is_err());
        assert!(mlp.set_param("layers.0.weight", &[2, 3], &[0.; 6]).is_err());
        assert!(mlp.set_param("nonsense", &[1], &[0.]).is_err());
    }
}
