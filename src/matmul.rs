//! The three matrix products a linear layer needs, on column-major `DMatrix` storage.
//!
//! With a batch as rows, one feature of the whole batch is a contiguous column, so
//! each product below runs its inner loop over contiguous memory.

use crate::float::Float;
use nalgebra::DMatrix;

/// Forward: h = x W^T.   x: (B, in), w: (out, in), h: (B, out)
pub fn x_wt<T: Float>(x: &DMatrix<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
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
pub fn gt_x<T: Float>(g: &DMatrix<T>, x: &DMatrix<T>, dw: &mut DMatrix<T>) {
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
pub fn g_w<T: Float>(g: &DMatrix<T>, w: &DMatrix<T>, dx: &mut DMatrix<T>) {
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
        DMatrix::from_fn(rows, cols, |r, c| {
            ((r * 7 + c * 13) as f64 * 0.37 + salt).sin()
        })
    }

    #[test]
    fn products_match_nalgebra_on_odd_shapes() {
        for &(b, inp, out) in &[(1, 1, 1), (7, 13, 5), (3, 1, 9), (64, 31, 17)] {
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
