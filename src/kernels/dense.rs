//! The three matrix products of a linear layer, on column-major `DMatrix` storage.
//!
//! First the plain loops: the definition, and the reference every fast path is tested
//! against. Then the fast paths: nalgebra's `gemm` (matrixmultiply's blocked kernels,
//! AVX/FMA natively), and, for f32 in the browser, our simd128 [`gemm`](super::gemm),
//! faster there than matrixmultiply's wasm kernel. Transposes are strided views, not
//! copies. nalgebra's own path for tiny shapes (a side of at most 5) corrupted the heap
//! on such views in our tests, so tiny shapes take the plain loops.

use super::gemm::{gemm, Operands};
use nalgebra::{DMatrix, Dyn, MatrixView, RealField};

/// Forward, plain loops: h = x W^T.   x: (B, in), w: (out, in), h: (B, out)
pub fn naive_x_wt<T: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
    let (batch, inputs) = x.shape();
    assert_eq!((w.ncols(), h.shape()), (inputs, (batch, w.nrows())));
    for b in 0..batch {
        for o in 0..w.nrows() {
            h[(b, o)] = (0..inputs).fold(T::zero(), |sum, i| sum + x[(b, i)] * w[(o, i)]);
        }
    }
}

/// Weight gradient, plain loops: dW = g^T x.   g: (B, out), x: (B, in), dw: (out, in)
pub fn naive_gt_x<T: RealField + Copy>(g: &DMatrix<T>, x: &DMatrix<T>, dw: &mut DMatrix<T>) {
    let (batch, outputs) = g.shape();
    assert_eq!((x.nrows(), dw.shape()), (batch, (outputs, x.ncols())));
    for o in 0..outputs {
        for i in 0..x.ncols() {
            dw[(o, i)] = (0..batch).fold(T::zero(), |sum, b| sum + g[(b, o)] * x[(b, i)]);
        }
    }
}

/// Input gradient, plain loops: dx = g W.   g: (B, out), w: (out, in), dx: (B, in)
pub fn naive_g_w<T: RealField + Copy>(g: &DMatrix<T>, w: &DMatrix<T>, dx: &mut DMatrix<T>) {
    let (batch, outputs) = g.shape();
    assert_eq!((w.nrows(), dx.shape()), (outputs, (batch, w.ncols())));
    for b in 0..batch {
        for i in 0..w.ncols() {
            dx[(b, i)] = (0..outputs).fold(T::zero(), |sum, o| sum + g[(b, o)] * w[(o, i)]);
        }
    }
}

/// The transpose of a column-major (rows, cols) matrix, as a view: no copy.
fn transposed<T: RealField + Copy>(m: &DMatrix<T>) -> MatrixView<'_, T, Dyn, Dyn, Dyn, Dyn> {
    let (rows, cols) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(cols), Dyn(rows), Dyn(rows), Dyn(1))
}

/// Whether every side is above 5, where nalgebra hands the product to matrixmultiply.
fn large(dims: &[usize]) -> bool {
    dims.iter().all(|&d| d > 5)
}

/// h = x W^T, through matrixmultiply when large.   x: (B, in), w: (out, in), h: (B, out)
pub fn x_wt<T: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
    if large(&[x.nrows(), x.ncols(), w.nrows()]) {
        h.gemm(T::one(), x, &transposed(w), T::zero());
    } else {
        naive_x_wt(x, w, h);
    }
}

/// dW = g^T x, through matrixmultiply when large.   g: (B, out), x: (B, in), dw: (out, in)
pub fn gt_x<T: RealField + Copy>(g: &DMatrix<T>, x: &DMatrix<T>, dw: &mut DMatrix<T>) {
    if large(&[g.nrows(), g.ncols(), x.ncols()]) {
        dw.gemm(T::one(), &transposed(g), x, T::zero());
    } else {
        naive_gt_x(g, x, dw);
    }
}

/// dx = g W, through matrixmultiply when large.   g: (B, out), w: (out, in), dx: (B, in)
pub fn g_w<T: RealField + Copy>(g: &DMatrix<T>, w: &DMatrix<T>, dx: &mut DMatrix<T>) {
    if large(&[g.nrows(), g.ncols(), w.ncols()]) {
        dx.gemm(T::one(), g, w, T::zero());
    } else {
        naive_g_w(g, w, dx);
    }
}

/// The smallest side for which f32 products in the browser take our kernel. The output
/// layer's products (10 classes) run faster in matrixmultiply, whose blocking pads less
/// than our 8 x 4 tiles.
const KERNEL_MIN: usize = 16;

fn takes_kernel(dims: &[usize]) -> bool {
    cfg!(target_arch = "wasm32") && dims.iter().all(|&d| d >= KERNEL_MIN)
}

/// f32 h = x W^T: our kernel in the browser when large enough, else [`x_wt`].
pub fn x_wt_f32(x: &DMatrix<f32>, w: &DMatrix<f32>, h: &mut DMatrix<f32>) {
    let ((batch, inputs), outputs) = (x.shape(), w.nrows());
    if !takes_kernel(&[batch, inputs, outputs]) {
        return x_wt(x, w, h);
    }
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
}

/// f32 dW = g^T x: our kernel in the browser when large enough, else [`gt_x`].
pub fn gt_x_f32(g: &DMatrix<f32>, x: &DMatrix<f32>, dw: &mut DMatrix<f32>) {
    let ((batch, outputs), inputs) = (g.shape(), x.ncols());
    if !takes_kernel(&[batch, outputs, inputs]) {
        return gt_x(g, x, dw);
    }
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
}

/// f32 dx = g W: our kernel in the browser when large enough, else [`g_w`].
pub fn g_w_f32(g: &DMatrix<f32>, w: &DMatrix<f32>, dx: &mut DMatrix<f32>) {
    let ((batch, outputs), inputs) = (g.shape(), w.ncols());
    if !takes_kernel(&[batch, outputs, inputs]) {
        return g_w(g, w, dx);
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(rows: usize, cols: usize, salt: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |r, c| ((r * 7 + c * 13) as f64 * 0.37 + salt).sin())
    }

    const SHAPES: [(usize, usize, usize); 7] = [
        (1, 1, 1),
        (7, 13, 5),
        (3, 1, 9),
        (6, 6, 6),
        (64, 31, 17),
        (64, 784, 256),
        (33, 257, 10),
    ];

    #[test]
    fn plain_loops_are_the_textbook_products() {
        let (x, w, g) = (filled(3, 4, 0.1), filled(2, 4, 0.2), filled(3, 2, 0.3));
        let (mut h, mut dw, mut dx) = (DMatrix::zeros(3, 2), DMatrix::zeros(2, 4), DMatrix::zeros(3, 4));
        naive_x_wt(&x, &w, &mut h);
        naive_gt_x(&g, &x, &mut dw);
        naive_g_w(&g, &w, &mut dx);
        assert!((h - &x * w.transpose()).norm() < 1e-14);
        assert!((dw - g.transpose() * &x).norm() < 1e-14);
        assert!((dx - &g * &w).norm() < 1e-14);
    }

    #[test]
    fn fast_products_match_the_plain_loops() {
        for &(b, inp, out) in &SHAPES {
            let (x, w, g) = (filled(b, inp, 0.1), filled(out, inp, 0.2), filled(b, out, 0.3));
            let (mut fast, mut plain) = (DMatrix::zeros(b, out), DMatrix::zeros(b, out));
            x_wt(&x, &w, &mut fast);
            naive_x_wt(&x, &w, &mut plain);
            assert!((&fast - &plain).amax() < 1e-10, "x W^T {b}x{inp}x{out}");
            let (mut fast, mut plain) = (DMatrix::zeros(out, inp), DMatrix::zeros(out, inp));
            gt_x(&g, &x, &mut fast);
            naive_gt_x(&g, &x, &mut plain);
            assert!((&fast - &plain).amax() < 1e-10, "g^T x {b}x{inp}x{out}");
            let (mut fast, mut plain) = (DMatrix::zeros(b, inp), DMatrix::zeros(b, inp));
            g_w(&g, &w, &mut fast);
            naive_g_w(&g, &w, &mut plain);
            assert!((&fast - &plain).amax() < 1e-10, "g W {b}x{inp}x{out}");
        }
    }
}
