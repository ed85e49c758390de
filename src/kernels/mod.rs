//! The fast arithmetic behind a layer, kept apart from the model so `mlp.rs` reads like
//! the notebook. Each fast path is tested against a plain-loop reference.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`dense`] | the three products of a layer (`x W^T`, `g^T x`, `g W`): plain loops first, then nalgebra's `gemm` or, for f32 in the browser, [`gemm`] |
//! | [`gemm`] | the packed simd128 f32 micro-kernel for dense products in wasm |
//! | [`sparse`] | the first layer's products over only the inked pixels of a batch |
//! | [`exp`] | a branch-free `e^x` in f32, so a layer's sigmoid vectorises |
//!
//! Which kernel a float type uses is chosen by [`crate::model::float::Float`]; this module
//! depends on nalgebra alone.

pub mod dense;
pub mod exp;
pub mod gemm;
pub mod sparse;

pub use sparse::Nonzeros;

use nalgebra::{DMatrix, RealField};

/// Resize `m` to (rows, cols), reallocating only when the shape changes (then zeroed).
pub fn resize<T: RealField + Copy>(m: &mut DMatrix<T>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = DMatrix::zeros(rows, cols);
    }
}
