//! The hidden layers' activations, each a function / derivative pair.
//!
//! The backward pass multiplies dL/d(out) by the derivative at each element. Sigmoid and
//! tanh write it from their cached output; ReLU from the pre-activation `fc`.

use crate::model::float::Float;
use nalgebra::DMatrix;

/// A hidden layer's activation: `torch.sigmoid` (the notebook's), `torch.relu` or `torch.tanh`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
    /// sigma(z) = 1 / (1 + e^-z); sigma'(z) = s (1 - s), from the output s.
    #[default]
    Sigmoid,
    /// relu(z) = max(z, 0); relu'(z) = 1 if z > 0 else 0 (0 at z = 0, as PyTorch), from fc.
    Relu,
    /// tanh(z); tanh'(z) = 1 - t^2, from the output t.
    Tanh,
}

impl Activation {
    pub const ALL: [Activation; 3] = [Activation::Sigmoid, Activation::Relu, Activation::Tanh];

    /// Its name in PyTorch, the cache keys (`relu0`) and the URL (`?act=relu`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
        }
    }

    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// out = act(z), elementwise over a layer.   z, out: (B, width)
    pub fn forward<T: Float>(self, z: &DMatrix<T>, out: &mut DMatrix<T>) {
        match self {
            Activation::Sigmoid => out.zip_apply(z, |s, z| *s = sigmoid(z)),
            Activation::Relu => out.zip_apply(z, |r, z| *r = relu(z)),
            Activation::Tanh => out.zip_apply(z, |t, z| *t = z.tanh()),
        }
    }

    /// grad = grad * act'(fc): dL/d(out) becomes dL/dfc.   grad, fc, out: (B, width)
    pub fn backward<T: Float>(self, grad: &mut DMatrix<T>, fc: &DMatrix<T>, out: &DMatrix<T>) {
        match self {
            Activation::Sigmoid => grad.zip_apply(out, |g, s| *g *= sigmoid_grad_from_output(s)),
            Activation::Relu => grad.zip_apply(fc, |g, z| *g *= relu_grad(z)),
            Activation::Tanh => grad.zip_apply(out, |g, t| *g *= tanh_grad_from_output(t)),
        }
    }
}

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

/// relu(z) = max(z, 0); NaN stays NaN, as in PyTorch, so a divergence shows.
pub fn relu<T: Float>(z: T) -> T {
    if z <= T::zero() {
        T::zero()
    } else {
        z
    }
}

/// relu'(z) from the pre-activation: 1 where z > 0, else 0 (PyTorch's choice at z = 0).
pub fn relu_grad<T: Float>(z: T) -> T {
    if z > T::zero() {
        T::one()
    } else {
        T::zero()
    }
}

/// tanh'(z) from the cached output t = tanh(z): 1 - t^2.
pub fn tanh_grad_from_output<T: Float>(t: T) -> T {
    T::one() - t * t
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
    fn every_derivative_matches_central_differences() {
        let z = DMatrix::from_row_slice(1, 6, &[-2.5_f64, -0.7, -1e-3, 0.4, 1.3, 3.0]);
        for act in Activation::ALL {
            let h = 1e-6;
            let (mut up, mut down, mut out) = (z.clone(), z.clone(), z.clone());
            act.forward(&z.add_scalar(h), &mut up);
            act.forward(&z.add_scalar(-h), &mut down);
            act.forward(&z, &mut out);
            let mut grad = DMatrix::from_element(1, 6, 1.0);
            act.backward(&mut grad, &z, &out);
            for c in 0..6 {
                let numeric = (up[c] - down[c]) / (2.0 * h);
                assert!(
                    (numeric - grad[c]).abs() < 1e-8,
                    "{act:?} at {}: {numeric} vs {}",
                    z[c],
                    grad[c]
                );
            }
        }
    }

    #[test]
    fn relu_has_derivative_zero_at_zero_and_keeps_nan() {
        let z = DMatrix::from_row_slice(1, 3, &[0.0_f64, -0.0, 2.0]);
        let mut out = z.clone();
        Activation::Relu.forward(&z, &mut out);
        let mut grad = DMatrix::from_element(1, 3, 5.0);
        Activation::Relu.backward(&mut grad, &z, &out);
        assert_eq!(grad.as_slice(), [0.0, 0.0, 5.0]);
        assert!(relu(f32::NAN).is_nan());
        assert_eq!(relu(-3.0_f32), 0.0);
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(Activation::from_name(act.name()), Some(act));
        }
        assert_eq!(Activation::from_name("gelu"), None);
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
