//! The scalar type the model is generic over: `f32` trains, `f64` checks. Each type
//! names the kernels it computes with, so the model never asks which type it has.

use crate::kernels::{dense, exp::exp_nonpositive_f32};
use nalgebra::{DMatrix, RealField};

/// A real number the model can compute in.
pub trait Float: RealField + Copy + Default + std::fmt::Debug + 'static {
    /// Convert from f64 (rounding for f32).
    fn of(value: f64) -> Self;
    /// Widen to f64.
    fn as_f64(self) -> f64;
    /// e^x for x <= 0.
    fn exp_nonpositive(x: Self) -> Self;
    /// h = x W^T.   x: (B, in), w: (out, in), h: (B, out)
    fn x_wt(x: &DMatrix<Self>, w: &DMatrix<Self>, h: &mut DMatrix<Self>);
    /// dW = g^T x.   g: (B, out), x: (B, in), dw: (out, in)
    fn gt_x(g: &DMatrix<Self>, x: &DMatrix<Self>, dw: &mut DMatrix<Self>);
    /// dx = g W.   g: (B, out), w: (out, in), dx: (B, in)
    fn g_w(g: &DMatrix<Self>, w: &DMatrix<Self>, dx: &mut DMatrix<Self>);
}

/// Training: the branch-free exp, and our simd128 kernel for dense products in wasm.
impl Float for f32 {
    fn of(value: f64) -> Self {
        value as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn exp_nonpositive(x: Self) -> Self {
        exp_nonpositive_f32(x)
    }
    fn x_wt(x: &DMatrix<f32>, w: &DMatrix<f32>, h: &mut DMatrix<f32>) {
        dense::x_wt_f32(x, w, h);
    }
    fn gt_x(g: &DMatrix<f32>, x: &DMatrix<f32>, dw: &mut DMatrix<f32>) {
        dense::gt_x_f32(g, x, dw);
    }
    fn g_w(g: &DMatrix<f32>, w: &DMatrix<f32>, dx: &mut DMatrix<f32>) {
        dense::g_w_f32(g, w, dx);
    }
}

/// Checking: the library's exp and nalgebra's products.
impl Float for f64 {
    fn of(value: f64) -> Self {
        value
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn exp_nonpositive(x: Self) -> Self {
        x.exp()
    }
    fn x_wt(x: &DMatrix<f64>, w: &DMatrix<f64>, h: &mut DMatrix<f64>) {
        dense::x_wt(x, w, h);
    }
    fn gt_x(g: &DMatrix<f64>, x: &DMatrix<f64>, dw: &mut DMatrix<f64>) {
        dense::gt_x(g, x, dw);
    }
    fn g_w(g: &DMatrix<f64>, w: &DMatrix<f64>, dx: &mut DMatrix<f64>) {
        dense::g_w(g, w, dx);
    }
}
