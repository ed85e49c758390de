//! e^x in f32 with no branch and no call, so a loop over a layer vectorises (the
//! library's `expf` is a call per element).

/// e^x for x <= 0, within 2 ulp (Cephes' `expf` polynomial); 0 below -87, where e^x
/// leaves the normal f32 range.
pub fn exp_nonpositive_f32(x: f32) -> f32 {
    // x = n ln2 + r with |r| <= ln2 / 2; n rounded by the 1.5 * 2^23 trick (no floor call),
    // and read back from `shifted`'s low mantissa bits (a saturating `as i32` does not vectorise).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_a_few_ulp_of_f64_exp() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -(i as f32) * 1e-3 * 1.1; // 0 .. -220
            let exact = (x as f64).exp();
            let got = exp_nonpositive_f32(x) as f64;
            let tolerance = 3.0 * f32::EPSILON as f64 * exact + 2.0 * f32::MIN_POSITIVE as f64; // tiny values flush to 0
            assert!((got - exact).abs() <= tolerance, "x={x}: {got} vs {exact}");
            worst = worst.max((got - exact).abs() / exact.max(f32::MIN_POSITIVE as f64));
        }
        assert!(worst > 0.0, "compared something");
        assert_eq!(exp_nonpositive_f32(0.0), 1.0);
        assert_eq!(exp_nonpositive_f32(-1000.0), 0.0);
        assert!(exp_nonpositive_f32(f32::NAN).is_nan());
    }
}
