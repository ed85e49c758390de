//! The scalar type the model is generic over: `f32` trains, `f64` checks.

use nalgebra::RealField;

/// A real number the model can compute in.
pub trait Float: RealField + Copy + Default + std::fmt::Debug + 'static {
    /// Convert from f64 (rounding for f32).
    fn of(value: f64) -> Self;
    /// Widen to f64.
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    fn of(value: f64) -> Self {
        value as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    fn of(value: f64) -> Self {
        value
    }
    fn as_f64(self) -> f64 {
        self
    }
}
