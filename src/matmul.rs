//! The three matrix products a linear layer needs, on column-major `DMatrix` storage.
//!
//! In the browser, f32 goes to our simd128 micro-kernel ([`crate::gemm`]), which beat
//! matrixmultiply's wasm kernel (see the README's benchmark). Elsewhere products go
//! through nalgebra's `gemm`, which hands f32/f64 to matrixmultiply's blocked kernels
//! (AVX/FMA natively). Transposes are strided views of the same storage, not copies.
//! nalgebra's own path for tiny shapes (any side <= 5) misbehaves on such views (heap
//! corruption, seen in our tests), so tiny shapes use the plain loops below, which also
//! serve as the reference the fast path is tested against.

use crate::float::Float;
use crate::gemm::{gemm, Operands};
use nalgebra::{DMatrix, Dyn, MatrixView};
use std::any::Any;

/// The transpose of a column-major (rows, cols) matrix, as a view: no copy.
fn transposed<T: Float>(m: &DMatrix<T>) -> MatrixView<'_, T, Dyn, Dyn, Dyn, Dyn> {
    let (rows, cols) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(cols), Dyn(rows), Dyn(rows), Dyn(1))
}

/// Above this size on every side, nalgebra hands the product to matrixmultiply.
const SMALL: usize = 5;

fn large(dims: &[usize]) -> bool {
    dims.iter().all(|&d| d > SMALL)
}

/// Whether f32 products use [`crate::gemm`]: in wasm, where it is the faster one, for
/// matrices at least KERNEL_MIN on every side.
const USE_KERNEL: bool = cfg!(target_arch = "wasm32");
const KERNEL_MIN: usize = 16;

/// The same matrices as f32, when `T` is f32 and the kernel is in use.
fn as_f32<'a, T: Float>(
    a: &'a DMatrix<T>,
    b: &'a DMatrix<T>,
    c: &'a mut DMatrix<T>,
) -> Option<(&'a DMatrix<f32>, &'a DMatrix<f32>, &'a mut DMatrix<f32>)> {
    // The output layer's products (10 classes) run faster in matrixmultiply, whose
    // blocking pads less than our 8 x 4 tiles.
    if !USE_KERNEL
        || [a.nrows(), a.ncols(), b.nrows(), b.ncols()]
            .iter()
            .any(|&d| d < KERNEL_MIN)
    {
        return None;
    }
    let a = (a as &dyn Any).downcast_ref()?;
    let b = (b as &dyn Any).downcast_ref()?;
    let c = (c as &mut dyn Any).downcast_mut()?;
    Some((a, b, c))
}

/// Forward: h = x W^T.   x: (B, in), w: (out, in), h: (B, out)
pub fn x_wt<T: Float>(x: &DMatrix<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
    if let Some((x, w, h)) = as_f32(x, w, h) {
        let ((batch, inputs), outputs) = (x.shape(), w.nrows());
        // As h^T = W x^T, so the batch (small) is the side that streams from L2.
        // A(o, i) = w[o + i * out], B(i, b) = x[b + i * B], C(o, b) = h[b + o * B]
        let ops = Operands {
            a: w.as_slice(),
            rsa: 1,
            csa: outputs,
            b: x.as_slice(),
            rsb: batch,
            csb: 1,
        };
        gemm(outputs, batch, inputs, ops, h.as_mut_slice(), (batch, 1));
    } else if large(&[x.nrows(), x.ncols(), w.nrows()]) {
        h.gemm(T::one(), x, &transposed(w), T::zero());
    } else {
        naive_x_wt(x, w, h);
    }
}

/// Weight gradient: dW = g^T x.   g: (B, out), x: (B, in), dw: (out, in)
pub fn gt_x<T: Float>(g: &DMatrix<T>, x: &DMatrix<T>, dw: &mut DMatrix<T>) {
    if let Some((g, x, dw)) = as_f32(g, x, dw) {
        let ((batch, outputs), inputs) = (g.shape(), x.ncols());
        // A(o, b) = g[b + o * B], B(b, i) = x[b + i * B]
        let ops = Operands {
            a: g.as_slice(),
            rsa: batch,
            csa: 1,
            b: x.as_slice(),
            rsb: 1,
            csb: batch,
        };
        gemm(outputs, inputs, batch, ops, dw.as_mut_slice(), (1, outputs));
    } else if large(&[g.nrows(), g.ncols(), x.ncols()]) {
        dw.gemm(T::one(), &transposed(g), x, T::zero());
    } else {
        naive_gt_x(g, x, dw);
    }
}

/// Input gradient: dx = g W.   g: (B, out), w: (out, in), dx: (B, in)
pub fn g_w<T: Float>(g: &DMatrix<T>, w: &DMatrix<T>, dx: &mut DMatrix<T>) {
    if let Some((g, w, dx)) = as_f32(g, w, dx) {
        let ((batch, outputs), inputs) = (g.shape(), w.ncols());
        // A(b, o) = g[b + o * B], B(o, i) = w[o + i * out]
        let ops = Operands {
            a: g.as_slice(),
            rsa: 1,
            csa: batch,
            b: w.as_slice(),
            rsb: 1,
            csb: outputs,
        };
        gemm(batch, inputs, outputs, ops, dx.as_mut_slice(), (1, batch));
    } else if large(&[g.nrows(), g.ncols(), w.ncols()]) {
        dx.gemm(T::one(), g, w, T::zero());
    } else {
        naive_g_w(g, w, dx);
    }
}

/// Forward: h = x W^T.   x: (B, in), w: (out, in), h: (B, out)
fn naive_x_wt<T: Float>(x: &DMatrix<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
    let (batch, inputs) = x.shape();
    let outputs = w.nrows();
    debug_assert_eq!(w.ncols(), inputs);
    debug_assert_eq!(h.shape(), (batch, outputs));
    h.fill(T::zero());
    let (x, w, h) = (x.as_slice(), w.as_slice(), h.as_mut_slice());
    for (o, h_col) in h.chunks_exact_mut(batch.max(1)).enumerate().take(outputs) {
        for (i, x_col) in x.chunks_exact(batch.max(1)).enumerate().take(inputs) {
            let w_oi = w[o + i * outputs];
            for (h_b, &x_b) in h_col.iter_mut().zip(x_col) {
                *h_b += x_b * w_oi;
            }
        }
    }
}

/// Weight gradient: dW = g^T x.   g: (B, out), x: (B, in), dw: (out, in)
fn naive_gt_x<T: Float>(g: &DMatrix<T>, x: &DMatrix<T>, dw: &mut DMatrix<T>) {
    let (batch, outputs) = g.shape();
    let inputs = x.ncols();
    debug_assert_eq!(x.nrows(), batch);
    debug_assert_eq!(dw.shape(), (outputs, inputs));
    for i in 0..inputs {
        let x_col = x.column(i);
        for o in 0..outputs {
            dw[(o, i)] = g.column(o).dot(&x_col);
        }
    }
}

/// Input gradient: dx = g W.   g: (B, out), w: (out, in), dx: (B, in)
fn naive_g_w<T: Float>(g: &DMatrix<T>, w: &DMatrix<T>, dx: &mut DMatrix<T>) {
    let (batch, outputs) = g.shape();
    let inputs = w.ncols();
    debug_assert_eq!(w.nrows(), outputs);
    debug_assert_eq!(dx.shape(), (batch, inputs));
    dx.fill(T::zero());
    for i in 0..inputs {
        let mut dx_col = dx.column_mut(i);
        for o in 0..outputs {
            dx_col.axpy(w[(o, i)], &g.column(o), T::one());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(rows: usize, cols: usize, salt: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |r, c| ((r * 7 + c * 13) as f64 * 0.37 + salt).sin())
    }

    #[test]
    fn products_match_nalgebra_on_odd_shapes() {
        let shapes = [
            (1, 1, 1),
            (7, 13, 5),
            (3, 1, 9),
            (6, 6, 6),
            (64, 31, 17),
            (64, 784, 256),
            (33, 257, 10),
        ];
        for &(b, inp, out) in &shapes {
            let x = filled(b, inp, 0.1);
            let w = filled(out, inp, 0.2);
            let g = filled(b, out, 0.3);
            let mut h = DMatrix::zeros(b, out);
            x_wt(&x, &w, &mut h);
            assert!((&h - &x * w.transpose()).norm() < 1e-12);
            let mut dw = DMatrix::zeros(out, inp);
            gt_x(&g, &x, &mut dw);
            assert!((&dw - g.transpose() * &x).norm() < 1e-12);
            let mut dx = DMatrix::zeros(b, inp);
            g_w(&g, &w, &mut dx);
            assert!((&dx - &g * &w).norm() < 1e-12);
        }
    }
}
