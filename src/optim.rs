//! Plain SGD: p <- p - lr * dL/dp, for every parameter tensor.

use crate::float::Float;
use crate::mlp::{Grads, Mlp};

/// Stochastic gradient descent with a fixed learning rate, as `torch.optim.SGD(lr)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub learning_rate: f64,
}

impl Sgd {
    pub fn step<T: Float>(&self, mlp: &mut Mlp<T>, grads: &Grads<T>) {
        let lr = T::of(self.learning_rate);
        let layers = mlp.layers.iter_mut().chain([&mut mlp.output_layer]);
        let layer_grads = grads.layers.iter().chain([&grads.output_layer]);
        for (layer, grad) in layers.zip(layer_grads) {
            for (param, grad) in [
                (layer.weight.as_mut_slice(), grad.weight.as_slice()),
                (layer.bias.as_mut_slice(), grad.bias.as_slice()),
            ] {
                for (p, &g) in param.iter_mut().zip(grad) {
                    *p -= lr * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::mse;
    use crate::mlp::InputGrad;
    use nalgebra::DMatrix;

    #[test]
    fn a_small_step_lowers_the_loss() {
        let mut mlp = Mlp::<f64>::new(4, &[3], 2, 1);
        let x = DMatrix::from_fn(5, 4, |r, c| (r + c) as f64 * 0.1);
        let y = DMatrix::from_fn(5, 2, |r, _| r as f64 * 0.2);
        let mut grad_out = DMatrix::zeros(5, 2);
        let mut grads = mlp.new_grads();
        let cache = mlp.forward(&x);
        let before = mse(&cache.output, &y, &mut grad_out);
        mlp.backward(&cache, &grad_out, &mut grads, InputGrad::Skip);
        Sgd { learning_rate: 0.1 }.step(&mut mlp, &grads);
        let after = mse(&mlp.forward(&x).output, &y, &mut grad_out);
        assert!(after < before, "{after} !< {before}");
    }
}
