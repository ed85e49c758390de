//! `Mlp`: the seed's `CustomMLP`, `{Linear -> Sigmoid} x (L-1) -> Linear`, with a
//! hand-written backward pass. Each layer's forward and backward sit side by side.
//!
//! The forward pass fills a [`Cache`] under the seed's names (`input`, `fc{i}`,
//! `sigmoid{i}`, `output`); the backward pass reads it and fills [`Grads`].

use crate::activation::{sigmoid_all, sigmoid_grad_from_output};
use crate::float::Float;
use crate::matmul::{g_w, gt_x, x_wt};
use crate::optim::Sgd;
use crate::sparse::{self, Nonzeros};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};

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
    /// Uniform in +-1/sqrt(fan_in), weights and bias alike, as `nn.Linear`.
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
    /// `nonzeros`, when given, indexes a mostly-zero x (the pixels), for the sparse product.
    fn forward(&self, x: &DMatrix<T>, nonzeros: Option<&Nonzeros<T>>, h: &mut DMatrix<T>) {
        match nonzeros {
            Some(nonzeros) => sparse::x_wt(nonzeros, &self.weight, h),
            None => x_wt(x, &self.weight, h),
        }
        // Column by column on the storage: nalgebra's element iterators do not vectorise.
        let batch = h.nrows().max(1);
        for (column, &b) in h.as_mut_slice().chunks_exact_mut(batch).zip(self.bias.as_slice()) {
            column.iter_mut().for_each(|h| *h += b);
        }
    }

    /// Given g = dL/dh (B, out) and the forward input x (B, in):
    /// dW = g^T x (out, in), db = sum over the batch of g (out,), and, when asked,
    /// dx = g W (B, in). `nonzeros` as in `forward`.
    fn backward(
        &self,
        (x, nonzeros): (&DMatrix<T>, Option<&Nonzeros<T>>),
        g: &DMatrix<T>,
        grad: &mut LinearGrad<T>,
        dx: Option<&mut DMatrix<T>>,
    ) {
        match nonzeros {
            Some(nonzeros) => sparse::gt_x(g, nonzeros, &mut grad.weight),
            None => gt_x(g, x, &mut grad.weight),
        }
        sum_over_batch(g, &mut grad.bias);
        if let Some(dx) = dx {
            g_w(g, &self.weight, dx);
        }
    }
}

/// What the forward pass keeps for the backward pass, under the seed's names.
#[derive(Clone, Debug)]
pub struct Cache<T: Float> {
    /// `input`: (B, in). Left empty (0 x 0) by `Dataset::fill_batch` when the batch is
    /// mostly zeros: the products then read `input_nonzeros`, and nothing reads this.
    pub input: DMatrix<T>,
    /// `fc{i}`: (B, hidden_i), the pre-activations
    pub fc: Vec<DMatrix<T>>,
    /// `sigmoid{i}`: (B, hidden_i), the activations
    pub sigmoid: Vec<DMatrix<T>>,
    /// `output`: (B, out), the logits
    pub output: DMatrix<T>,
    /// `input`'s nonzero entries (not in the seed): the first layer's sparse products
    pub input_nonzeros: Nonzeros<T>,
}

impl<T: Float> Cache<T> {
    /// Look an entry up by the seed's cache key.
    pub fn get(&self, key: &str) -> Option<&DMatrix<T>> {
        let index = |prefix: &str| key.strip_prefix(prefix)?.parse::<usize>().ok();
        match key {
            "input" => Some(&self.input),
            "output" => Some(&self.output),
            _ => match (index("fc"), index("sigmoid")) {
                (Some(i), _) => self.fc.get(i),
                (_, Some(i)) => self.sigmoid.get(i),
                _ => None,
            },
        }
    }

    pub fn batch_size(&self) -> usize {
        self.input_nonzeros.samples()
    }
}

/// Every gradient the backward pass produces.
#[derive(Clone, Debug)]
pub struct Grads<T: Float> {
    /// `layers.{i}`, same shapes as the hidden layers
    pub layers: Vec<LinearGrad<T>>,
    /// `output_layer`
    pub output_layer: LinearGrad<T>,
    /// dL/dinput: (B, in); left empty (0 x 0) when the caller skips it
    pub input: DMatrix<T>,
    /// dL/dfc{i} and dL/dsigmoid{i} scratch: (B, hidden_i)
    delta: Vec<DMatrix<T>>,
}

/// Whether `backward` computes dL/dinput. Training skips it: nothing uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputGrad {
    Compute,
    Skip,
}

/// The seed's `CustomMLP(input_dim, hidden_dims, output_dim)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Float> {
    /// `layers.{i}`: Linear followed by sigmoid
    pub layers: Vec<Linear<T>>,
    /// `output_layer`: Linear, no activation
    pub output_layer: Linear<T>,
}

/// How many weights and biases an Mlp of these widths has, before building one: each
/// layer is (in + 1) x out numbers.
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
    /// A model initialised like `nn.Linear`, drawn from `seed`.
    pub fn new(input_dim: usize, hidden_dims: &[usize], output_dim: usize, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut fan_in = input_dim;
        let mut layers = Vec::with_capacity(hidden_dims.len());
        for &width in hidden_dims {
            layers.push(Linear::init(fan_in, width, &mut rng));
            fan_in = width;
        }
        let output_layer = Linear::init(fan_in, output_dim, &mut rng);
        Mlp { layers, output_layer }
    }

    pub fn input_dim(&self) -> usize {
        self.layers.first().unwrap_or(&self.output_layer).inputs()
    }

    pub fn hidden_dims(&self) -> Vec<usize> {
        self.layers.iter().map(Linear::outputs).collect()
    }

    pub fn output_dim(&self) -> usize {
        self.output_layer.outputs()
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
    pub fn params_mut(&mut self) -> Vec<&mut [T]> {
        let mut out = Vec::with_capacity(2 * (self.layers.len() + 1));
        for l in self.layers.iter_mut().chain(std::iter::once(&mut self.output_layer)) {
            out.push(l.weight.as_mut_slice());
            out.push(l.bias.as_mut_slice());
        }
        out
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

    /// An empty cache for batches of `batch` samples; `forward` resizes it as needed.
    pub fn new_cache(&self, batch: usize) -> Cache<T> {
        let dims = self.hidden_dims();
        Cache {
            input: DMatrix::zeros(batch, self.input_dim()),
            fc: dims.iter().map(|&d| DMatrix::zeros(batch, d)).collect(),
            sigmoid: dims.iter().map(|&d| DMatrix::zeros(batch, d)).collect(),
            output: DMatrix::zeros(batch, self.output_dim()),
            input_nonzeros: Nonzeros::default(),
        }
    }

    /// Gradient storage of the right shapes, all zero.
    pub fn new_grads(&self) -> Grads<T> {
        let zero_like = |l: &Linear<T>| LinearGrad {
            weight: DMatrix::zeros(l.outputs(), l.inputs()),
            bias: DVector::zeros(l.outputs()),
        };
        Grads {
            layers: self.layers.iter().map(zero_like).collect(),
            output_layer: zero_like(&self.output_layer),
            input: DMatrix::zeros(0, 0),
            delta: Vec::new(),
        }
    }

    /// Forward a batch x: (B, in). Returns the cache; `cache.output` is (B, out).
    pub fn forward(&self, x: &DMatrix<T>) -> Cache<T> {
        let mut cache = self.new_cache(x.nrows());
        cache.input.copy_from(x);
        cache.input_nonzeros.gather(x);
        self.forward_cached(&mut cache);
        cache
    }

    /// Forward one 1-D sample x: (in,), as a batch of one.
    pub fn forward_sample(&self, x: &DVector<T>) -> Cache<T> {
        self.forward(&DMatrix::from_row_slice(1, x.len(), x.as_slice()))
    }

    /// Forward the batch the cache holds, reusing its storage. `cache.input_nonzeros`
    /// must index `cache.input` (`Nonzeros::gather`), or the batch when `input` is left
    /// empty (`Dataset::fill_batch`).
    pub fn forward_cached(&self, cache: &mut Cache<T>) {
        let batch = cache.batch_size();
        let Cache {
            input,
            fc,
            sigmoid: activations,
            output,
            input_nonzeros,
        } = cache;
        debug_assert!(
            input.is_empty() && input_nonzeros.is_sparse() || input_nonzeros.indexes(input),
            "input_nonzeros is stale"
        );
        let mut nonzeros = Some(&*input_nonzeros).filter(|nz| nz.is_sparse());
        let mut a = &*input;
        for ((layer, z), s) in self.layers.iter().zip(fc.iter_mut()).zip(activations.iter_mut()) {
            resize(z, batch, layer.outputs());
            resize(s, batch, layer.outputs());
            layer.forward(a, nonzeros.take(), z); // fc{i} = a W^T + b
            sigmoid_all(z, s); // sigmoid{i} = sigma(fc{i})
            a = s;
        }
        resize(output, batch, self.output_dim());
        self.output_layer.forward(a, nonzeros, output); // output = a W^T + b
    }

    /// Backward from g = dL/doutput (B, out), through the cache of the same batch.
    pub fn backward(&self, cache: &Cache<T>, grad_output: &DMatrix<T>, grads: &mut Grads<T>, input_grad: InputGrad) {
        self.backward_from(cache, grad_output, grads, input_grad, FirstWeight::Store);
    }

    /// Training's `backward` then `sgd.step`, with the same result to the bit. When the
    /// input is sparse, the first layer's weight gradient is applied column by column as
    /// it is summed and never stored (`grads.layers[0].weight` is left empty, 0 x 0):
    /// the largest tensor is then read and written once per batch instead of three times.
    pub fn backward_step(&mut self, cache: &Cache<T>, grad_output: &DMatrix<T>, grads: &mut Grads<T>, sgd: &Sgd) {
        let fused = !self.layers.is_empty() && cache.input_nonzeros.is_sparse();
        let first_weight = if fused { FirstWeight::Skip } else { FirstWeight::Store };
        self.backward_from(cache, grad_output, grads, InputGrad::Skip, first_weight);
        if fused {
            // grads.delta[0] still holds dL/dfc0.
            let lr = T::of(sgd.learning_rate);
            sparse::gt_x_descend(&grads.delta[0], &cache.input_nonzeros, &mut self.layers[0].weight, lr);
        }
        sgd.step(self, grads); // an empty gradient (the one applied above) changes nothing
    }

    fn backward_from(
        &self,
        cache: &Cache<T>,
        grad_output: &DMatrix<T>,
        grads: &mut Grads<T>,
        input_grad: InputGrad,
        first_weight: FirstWeight,
    ) {
        let batch = cache.batch_size();
        debug_assert_eq!(grad_output.shape(), (batch, self.output_dim()));
        let hidden = self.layers.len();
        grads.delta.resize_with(hidden, || DMatrix::zeros(0, 0));
        for (d, layer) in grads.delta.iter_mut().zip(&self.layers) {
            resize(d, batch, layer.outputs());
        }
        let want_input = input_grad == InputGrad::Compute;
        if want_input {
            resize(&mut grads.input, batch, self.input_dim());
        }

        // output = a W^T + b, with a = sigmoid{L-1} (or the input when there is no hidden layer)
        let a_last = cache.sigmoid.last().unwrap_or(&cache.input);
        let dx = match grads.delta.last_mut() {
            Some(d) => Some(d),
            None if want_input => Some(&mut grads.input),
            None => None,
        };
        let input_nonzeros = Some(&cache.input_nonzeros).filter(|nz| nz.is_sparse());
        let a_last_nonzeros = if hidden == 0 { input_nonzeros } else { None };
        self.output_layer
            .backward((a_last, a_last_nonzeros), grad_output, &mut grads.output_layer, dx);

        for i in (0..hidden).rev() {
            // dL/dfc{i} = dL/dsigmoid{i} * sigma'(fc{i}), in place
            let (earlier, rest) = grads.delta.split_at_mut(i);
            let delta = &mut rest[0];
            delta.zip_apply(&cache.sigmoid[i], |d, s| *d *= sigmoid_grad_from_output(s));
            // fc{i} = a W^T + b, with a = sigmoid{i-1} or the input
            let a = if i == 0 {
                (&cache.input, input_nonzeros)
            } else {
                (&cache.sigmoid[i - 1], None)
            };
            let dx = match earlier.last_mut() {
                Some(d) => Some(d),
                None if want_input => Some(&mut grads.input),
                None => None,
            };
            let grad = &mut grads.layers[i];
            if i == 0 && first_weight == FirstWeight::Skip {
                grad.weight = DMatrix::zeros(0, 0);
                sum_over_batch(delta, &mut grad.bias);
                continue;
            }
            resize(&mut grad.weight, self.layers[i].outputs(), self.layers[i].inputs());
            self.layers[i].backward(a, delta, grad, dx);
        }
    }
}

/// Whether `backward` stores the first layer's weight gradient (see `backward_step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FirstWeight {
    Store,
    Skip,
}

/// db = the sum over the batch of g: (B, out) -> (out,)
fn sum_over_batch<T: Float>(g: &DMatrix<T>, db: &mut DVector<T>) {
    let rows = g.nrows();
    for (o, db) in db.as_mut_slice().iter_mut().enumerate() {
        *db = g.as_slice()[o * rows..][..rows]
            .iter()
            .fold(T::zero(), |sum, &v| sum + v);
    }
}

impl<T: Float> Grads<T> {
    /// Every gradient's storage, in the order of [`Mlp::params_mut`].
    pub fn params(&self) -> Vec<&[T]> {
        let mut out = Vec::with_capacity(2 * (self.layers.len() + 1));
        for g in self.layers.iter().chain(std::iter::once(&self.output_layer)) {
            out.push(g.weight.as_slice());
            out.push(g.bias.as_slice());
        }
        out
    }
}

/// Resize without reallocating when the shape already fits.
pub(crate) fn resize<T: Float>(m: &mut DMatrix<T>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = DMatrix::zeros(rows, cols);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::mse;

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
        let cache = mlp.forward(&x);
        assert!(cache.input_nonzeros.is_sparse(), "the test must take the sparse path");
        let (mut g, mut grads) = (DMatrix::zeros(5, 3), mlp.new_grads());
        mse(&cache.output, &y, &mut g);
        mlp.backward(&cache, &g, &mut grads, InputGrad::Compute);
        let loss = |mlp: &Mlp<f64>| mse(&mlp.forward(&x).output, &y, &mut DMatrix::zeros(5, 3));
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
    fn shapes_and_names_follow_the_seed() {
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
        let cache = mlp.forward(&DMatrix::from_element(3, 32, 0.5));
        assert_eq!(cache.get("fc0").unwrap().shape(), (3, 16));
        assert_eq!(cache.get("sigmoid1").unwrap().shape(), (3, 4));
        assert_eq!(cache.get("output").unwrap().shape(), (3, 2));
        assert!(cache.get("fc2").is_none());
        let stored: usize = mlp.param_info().iter().map(|p| p.shape.iter().product::<usize>()).sum();
        assert_eq!((stored, parameter_count(32, &[16, 4], 2)), (606, 606));
        assert_eq!(parameter_count(784, &[], 10), 7850);
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
