//! Sigmoid, as a function / derivative pair.
//!
//! sigma(z) = 1 / (1 + e^-z), and sigma'(z) = sigma(z) (1 - sigma(z)): the backward
//! pass needs only the forward pass's output `s = sigma(z)`, which the cache keeps.

use crate::float::Float;
use nalgebra::DMatrix;
use std::any::Any;

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

/// `out = sigma(z)` elementwise, for a whole layer. f32 goes through [`sigmoid_f32`],
/// which the compiler turns into SIMD (4 or 8 at once); f64 through [`sigmoid`].
pub fn sigmoid_all<T: Float>(z: &DMatrix<T>, out: &mut DMatrix<T>) {
    let z32 = (z as &dyn Any).downcast_ref::<DMatrix<f32>>();
    match (z32, (out as &mut dyn Any).downcast_mut::<DMatrix<f32>>()) {
        (Some(z), Some(out)) => out.zip_apply(z, |s, z| *s = sigmoid_f32(z)),
        _ => out.zip_apply(z, |s, z| *s = sigmoid(z)),
    }
}

/// sigma(z) in f32 with no branch and no call, so a loop of it vectorises: e^-|z| from
/// a polynomial (Cephes' `expf`, within 2 ulp), then 1 / (1 + e) or e / (1 + e).
pub fn sigmoid_f32(z: f32) -> f32 {
    let e = exp_of_nonpositive(-z.abs());
    let s = 1.0 / (1.0 + e);
    if z >= 0.0 {
        s
    } else {
        e * s
    }
}

/// e^x for x <= 0; 0 below -87 (where e^x leaves the normal f32 range).
fn exp_of_nonpositive(x: f32) -> f32 {
    // x = n ln2 + r with |r| <= ln2 / 2; n rounded by the 1.5 * 2^23 trick (no floor call):
    // `shifted` holds n in its low mantissa bits, read as an integer directly: natively,
    // Rust's saturating `as i32` made a 64 x 256 layer's sigmoid take 45 us instead of 20.
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // For x < -87 (where the result is 0) this is garbage, but not UB.
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let two_to_n = f32::from_bits((n_int.max(-126).wrapping_add(127) as u32) << 23);
    if x < -87.0 {
        0.0
    } else {
        e_r * two_to_n
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
    fn f32_sigmoid_is_within_a_few_ulp() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let z = i as f32 * 1e-3 * 1.1; // -220 .. 220
            let exact = 1.0 / (1.0 + (-(z as f64)).exp());
            let got = sigmoid_f32(z) as f64;
            let tolerance = 4.0 * f32::EPSILON as f64 * exact + 2.0 * f32::MIN_POSITIVE as f64; // tiny values flush to 0
            assert!((got - exact).abs() <= tolerance, "z={z}: {got} vs {exact}");
            worst = worst.max((got - exact).abs() / exact.max(f32::MIN_POSITIVE as f64));
        }
        assert!(worst > 0.0, "compared something");
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert_eq!(sigmoid_f32(1000.0), 1.0);
        assert_eq!(sigmoid_f32(-1000.0), 0.0);
        assert!(sigmoid_f32(f32::NAN).is_nan());
        let z = DMatrix::from_row_slice(1, 3, &[-3.0f32, 0.25, 9.0]);
        let mut out = DMatrix::zeros(1, 3);
        sigmoid_all(&z, &mut out);
        assert_eq!(out, z.map(sigmoid_f32));
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
