//! Sigmoid, as a function / derivative pair.
//!
//! sigma(z) = 1 / (1 + e^-z), and sigma'(z) = sigma(z) (1 - sigma(z)): the backward
//! pass needs only the forward pass's output `s = sigma(z)`, which the cache keeps.

use crate::float::Float;
use nalgebra::DMatrix;

/// sigma(z) = 1 / (1 + e^-z), with e^-|z| so nothing overflows: for z < 0 it is
/// e^z / (1 + e^z). No branch, so a loop of it vectorises in f32.
pub fn sigmoid<T: Float>(z: T) -> T {
    let e = T::exp_nonpositive(-z.abs());
    let s = T::one() / (T::one() + e);
    if z >= T::zero() {
        s
    } else {
        e * s
    }
}

/// sigma'(z) from the cached output s = sigma(z): s (1 - s).
pub fn sigmoid_grad_from_output<T: Float>(s: T) -> T {
    s * (T::one() - s)
}

/// out = sigma(z), elementwise over a layer.   z, out: (B, width)
pub fn sigmoid_all<T: Float>(z: &DMatrix<T>, out: &mut DMatrix<T>) {
    out.zip_apply(z, |s, z| *s = sigmoid(z));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        assert_eq!(sigmoid(0.0_f64), 0.5);
        assert_eq!(sigmoid(0.0_f32), 0.5);
        assert_eq!(sigmoid(1000.0_f32), 1.0);
        assert_eq!(sigmoid(-1000.0_f32), 0.0);
        assert_eq!(sigmoid(-1000.0_f64), 0.0);
        assert!(sigmoid(f32::NAN).is_nan());
        for z in [-3.0_f64, -0.5, 0.7, 4.0] {
            assert!((sigmoid(z) + sigmoid(-z) - 1.0).abs() < 1e-15);
            assert!((sigmoid(z) - 1.0 / (1.0 + (-z).exp())).abs() < 1e-16);
        }
    }

    #[test]
    fn f32_sigmoid_is_within_a_few_ulp() {
        for i in -200_000..=200_000 {
            let z = i as f32 * 1e-3 * 1.1; // -220 .. 220
            let exact = 1.0 / (1.0 + (-(z as f64)).exp());
            let got = sigmoid(z) as f64;
            let tolerance = 4.0 * f32::EPSILON as f64 * exact + 2.0 * f32::MIN_POSITIVE as f64;
            assert!((got - exact).abs() <= tolerance, "z={z}: {got} vs {exact}");
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
