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
                // An empty gradient was applied already (`Mlp::backward_step`).
                debug_assert!(grad.is_empty() || grad.len() == param.len());
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
    fn fused_step_equals_backward_then_step_to_the_bit() {
        // A sparse input (most entries zero, feature 5 in no sample): the fused path.
        let x = DMatrix::from_fn(6, 40, |r, c| {
            if c == 5 || (r * 7 + c) % 3 != 0 {
                0.0
            } else {
                0.01 * (r + c) as f32
            }
        });
        let y = DMatrix::from_fn(6, 4, |r, c| ((r + c) % 2) as f32);
        let sgd = Sgd { learning_rate: 0.3 };
        let (mut separate, mut fused) = (Mlp::<f32>::new(40, &[33], 4, 5), Mlp::<f32>::new(40, &[33], 4, 5));
        let (mut grads_a, mut grads_b) = (separate.new_grads(), fused.new_grads());
        let mut grad_out = DMatrix::zeros(6, 4);
        for _ in 0..3 {
            let cache = separate.forward(&x);
            assert!(cache.input_nonzeros.is_sparse());
            mse(&cache.output, &y, &mut grad_out);
            separate.backward(&cache, &grad_out, &mut grads_a, InputGrad::Skip);
            sgd.step(&mut separate, &grads_a);
            let cache = fused.forward(&x);
            mse(&cache.output, &y, &mut grad_out);
            fused.backward_step(&cache, &grad_out, &mut grads_b, &sgd);
            assert_eq!(separate, fused, "the same weights, to the bit");
        }
        assert_eq!(
            grads_b.layers[0].weight.shape(),
            (0, 0),
            "the fused gradient is not stored"
        );
        // `backward` after a fused step stores the full gradient again.
        fused.backward(&fused.forward(&x), &grad_out, &mut grads_b, InputGrad::Skip);
        assert_eq!(grads_b.layers[0].weight.shape(), (33, 40));
    }

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
