//! Plain SGD, as `torch.optim.SGD(params, lr)`: p <- p - lr * dL/dp.

use crate::float::Float;
use crate::mlp::{Grads, Mlp};

/// `optimizer.step()` for one tensor: p -= lr * grad.
pub fn sgd<T: Float>(param: &mut [T], grad: &[T], learning_rate: T) {
    assert_eq!(param.len(), grad.len(), "a gradient for every parameter");
    for (p, &g) in param.iter_mut().zip(grad) {
        *p -= learning_rate * g;
    }
}

/// `optimizer.step()`: every parameter of the model, from `backward`'s gradients.
pub fn sgd_step<T: Float>(mlp: &mut Mlp<T>, grads: &Grads<T>, learning_rate: T) {
    for (param, grad) in mlp.params_mut().zip(grads.params()) {
        sgd(param, grad, learning_rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::mse;
    use crate::mlp::Scope;
    use nalgebra::DMatrix;

    #[test]
    fn a_small_step_lowers_the_loss_by_lr_times_the_squared_gradient() {
        let mut mlp = Mlp::<f64>::new(4, &[3], 2, 1);
        let x = DMatrix::from_fn(5, 4, |r, c| (r + c) as f64 * 0.1);
        let y = DMatrix::from_fn(5, 2, |r, _| r as f64 * 0.2);
        let mut grad_out = DMatrix::zeros(5, 2);
        let mut grads = Default::default();
        let cache = mlp.forward_batch(x.clone());
        let before = mse(&cache.output, &y, &mut grad_out);
        mlp.backward(&cache, &grad_out, &mut grads, Scope::Full);
        let squared: f64 = grads.params().flat_map(|g| g.iter()).map(|g| g * g).sum();
        let lr = 1e-3;
        sgd_step(&mut mlp, &grads, lr);
        let after = mse(&mlp.forward_batch(x).output, &y, &mut grad_out);
        // First order: L(p - lr g) = L(p) - lr |g|^2 + O(lr^2).
        let predicted = before - lr * squared;
        assert!(
            (after - predicted).abs() < 0.01 * lr * squared,
            "{after} vs {predicted}"
        );
    }

    #[test]
    fn sgd_moves_against_the_gradient() {
        let mut p = [1.0f32, -2.0, 0.5];
        sgd(&mut p, &[0.5, -1.0, 0.0], 0.1);
        assert_eq!(p, [0.95, -1.9, 0.5]);
    }
}
