//! Sigmoid, as a function / derivative pair.
//!
//! sigma(z) = 1 / (1 + e^-z), and sigma'(z) = sigma(z) (1 - sigma(z)): the backward
//! pass needs only the forward pass's output `s = sigma(z)`, which the cache keeps.

use crate::float::Float;

/// sigma(z), computed without overflow for large |z|.
pub fn sigmoid<T: Float>(z: T) -> T {
    let one = T::one();
    if z >= T::zero() {
        one / (one + (-z).exp())
    } else {
        let e = z.exp();
        e / (one + e)
    }
}

/// sigma'(z) written in terms of the cached output `s = sigma(z)`.
pub fn sigmoid_grad_from_output<T: Float>(s: T) -> T {
    s * (T::one() - s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        assert_eq!(sigmoid(0.0_f64), 0.5);
        assert_eq!(sigmoid(1000.0_f32), 1.0);
        assert_eq!(sigmoid(-1000.0_f32), 0.0);
        for z in [-3.0_f64, -0.5, 0.7, 4.0] {
            assert!((sigmoid(z) + sigmoid(-z) - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn derivative_matches_central_difference() {
        for z in [-4.0_f64, -1.0, 0.0, 0.3, 2.5] {
            let h = 1e-6;
            let numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2.0 * h);
            let analytic = sigmoid_grad_from_output(sigmoid(z));
            assert!((numeric - analytic).abs() < 1e-9, "z={z}: {numeric} vs {analytic}");
        }
    }
}
