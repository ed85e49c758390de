//! The f32 matrix product behind training in the browser: operands packed into
//! contiguous panels, then a register-blocked micro-kernel over each tile of C
//! (simd128 in wasm: eight f32x4 accumulators; more make V8 spill registers).
//!
//! C (m x n, column-major, leading dimension `ldc`) = A B, with A's element (i, p) at
//! `a[i * rsa + p * csa]` and B's element (p, j) at `b[p * rsb + j * csb]`: strides let
//! every product a layer needs, transposes included, read the matrices where they are.

use std::cell::RefCell;

/// Rows of C per tile: two f32x4 vectors.
const MR: usize = 8;
/// Columns of C per tile.
const NR: usize = 4;

/// The two operands and their strides.
#[derive(Clone, Copy, Debug)]
pub struct Operands<'a> {
    pub a: &'a [f32],
    pub rsa: usize,
    pub csa: usize,
    pub b: &'a [f32],
    pub rsb: usize,
    pub csb: usize,
}

/// Reused call after call: no allocation per batch.
#[derive(Default)]
struct Scratch {
    a_panels: Vec<f32>,
    b_panels: Vec<f32>,
    /// The p (columns of A, rows of B) whose column of A is not all zero.
    live_k: Vec<usize>,
    /// The columns of B that are not all zero.
    live_n: Vec<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// C = A B (overwrites C), with C's element (i, j) at `c[i * rsc + j * csc]`.
/// A: (m, k), B: (k, n), C: (m, n)
///
/// Exact zeros are skipped: a p where A's column or B's row is all zero adds nothing,
/// and a column of B that is all zero gives a zero column of C. MNIST batches have
/// about 290 of 784 pixels blank in every image, so the first layer's forward and
/// weight gradient skip over a third of their work, with the same result to the bit.
pub fn gemm(m: usize, n: usize, k: usize, ops: Operands<'_>, c: &mut [f32], (rsc, csc): (usize, usize)) {
    SCRATCH.with_borrow_mut(|s| {
        let is_zero = |src: &[f32], at: usize, len: usize| src[at..][..len].iter().all(|&v| v == 0.0);
        s.live_k.clear();
        let zero_column_of_a = |p: usize| ops.rsa == 1 && is_zero(ops.a, p * ops.csa, m);
        let zero_row_of_b = |p: usize| ops.csb == 1 && is_zero(ops.b, p * ops.rsb, n);
        s.live_k
            .extend((0..k).filter(|&p| !zero_column_of_a(p) && !zero_row_of_b(p)));
        s.live_n.clear();
        s.live_n
            .extend((0..n).filter(|&j| ops.rsb != 1 || !is_zero(ops.b, j * ops.csb, k)));
        let depth = s.live_k.len();
        for j in 0..n {
            if depth == 0 || s.live_n.binary_search(&j).is_err() {
                (0..m).for_each(|i| c[i * rsc + j * csc] = 0.0);
            }
        }
        if depth == 0 {
            return;
        }
        // A in panels of MR rows: panel r holds, for each live p, rows r*MR.. of column p.
        pack::<MR>(&mut s.a_panels, ops.a, (ops.rsa, ops.csa), None, m, &s.live_k);
        // B^T in panels of NR live columns of B, the same way.
        let live = s.live_n.len();
        pack::<NR>(
            &mut s.b_panels,
            ops.b,
            (ops.csb, ops.rsb),
            Some(&s.live_n),
            live,
            &s.live_k,
        );
        // One tile of C from panel ip of A and panel jp of B, stored where it belongs.
        let mut store = |ip: usize, jp: usize, a_panel: &[f32], b_panel: &[f32]| {
            let tile = tile(depth, a_panel, b_panel);
            let (i0, columns) = (ip * MR, &s.live_n[jp * NR..(jp * NR + NR).min(live)]);
            let rows = MR.min(m - i0);
            for (&j, column) in columns.iter().zip(&tile) {
                if rsc == 1 {
                    c[i0 + j * csc..][..rows].copy_from_slice(&column[..rows]);
                } else {
                    column[..rows]
                        .iter()
                        .enumerate()
                        .for_each(|(i, &v)| c[(i0 + i) * rsc + j * csc] = v);
                }
            }
        };
        // The larger operand's panel stays hot in L1 while the smaller one's panels,
        // which fit in L2, stream past it: each panel of the larger is read once.
        let (a_panels, b_panels) = (s.a_panels.chunks_exact(MR * depth), s.b_panels.chunks_exact(NR * depth));
        if s.a_panels.len() >= s.b_panels.len() {
            for (ip, a_panel) in a_panels.enumerate() {
                for (jp, b_panel) in b_panels.clone().enumerate() {
                    store(ip, jp, a_panel, b_panel);
                }
            }
        } else {
            for (jp, b_panel) in b_panels.enumerate() {
                for (ip, a_panel) in a_panels.clone().enumerate() {
                    store(ip, jp, a_panel, b_panel);
                }
            }
        }
    });
}

/// Pack a matrix with element (r, p) at `src[r * rs + p * ps]` into panels of W rows:
/// the t-th of the chosen rows (`rows`, or all `count` in order when `None`) and the q-th
/// chosen p go to `(t / W) * W * depth + q * W + t % W`; rows past the end are zero.
fn pack<const W: usize>(
    dst: &mut Vec<f32>,
    src: &[f32],
    (rs, ps): (usize, usize),
    rows: Option<&[usize]>,
    count: usize,
    ks: &[usize],
) {
    let depth = ks.len();
    let panels = count.div_ceil(W);
    dst.clear();
    dst.resize(panels * W * depth, 0.0);
    let at = |t: usize, q: usize| (t / W) * W * depth + q * W + t % W;
    match rows {
        // All rows, contiguous in `src`: copy W at a time.
        None if rs == 1 => {
            for (q, &p) in ks.iter().enumerate() {
                let column = &src[p * ps..][..count];
                let mut chunks = column.chunks_exact(W);
                for (i, chunk) in chunks.by_ref().enumerate() {
                    let slot: &mut [f32; W] = (&mut dst[i * W * depth + q * W..][..W]).try_into().expect("W values");
                    *slot = chunk.try_into().expect("W values");
                }
                let tail = chunks.remainder();
                dst[(panels - 1) * W * depth + q * W..][..tail.len()].copy_from_slice(tail);
            }
        }
        _ if rs == 1 => {
            for (q, &p) in ks.iter().enumerate() {
                let column = &src[p * ps..];
                for (t, &r) in rows.unwrap_or(&[]).iter().enumerate() {
                    dst[at(t, q)] = column[r];
                }
            }
        }
        _ => {
            for t in 0..count {
                let r = rows.map_or(t, |rows| rows[t]);
                let row = &src[r * rs..];
                for (q, &p) in ks.iter().enumerate() {
                    dst[at(t, q)] = row[p * ps];
                }
            }
        }
    }
}

/// One MR x NR tile of C from packed panels, in eight f32x4 accumulators.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn tile(k: usize, a: &[f32], b: &[f32]) -> [[f32; MR]; NR] {
    use core::arch::wasm32::{f32x4, f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat, v128};
    let zero = f32x4_splat(0.0);
    let mut acc: [[v128; 2]; NR] = [[zero; 2]; NR];
    for (a, b) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(k) {
        let lo = f32x4(a[0], a[1], a[2], a[3]);
        let hi = f32x4(a[4], a[5], a[6], a[7]);
        for (acc_j, &b_j) in acc.iter_mut().zip(b) {
            let b_j = f32x4_splat(b_j);
            acc_j[0] = f32x4_add(acc_j[0], f32x4_mul(lo, b_j));
            acc_j[1] = f32x4_add(acc_j[1], f32x4_mul(hi, b_j));
        }
    }
    acc.map(|[lo, hi]| {
        [
            f32x4_extract_lane::<0>(lo),
            f32x4_extract_lane::<1>(lo),
            f32x4_extract_lane::<2>(lo),
            f32x4_extract_lane::<3>(lo),
            f32x4_extract_lane::<0>(hi),
            f32x4_extract_lane::<1>(hi),
            f32x4_extract_lane::<2>(hi),
            f32x4_extract_lane::<3>(hi),
        ]
    })
}

/// The same tile in portable Rust, the same order of operations (natively, for tests).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn tile(k: usize, a: &[f32], b: &[f32]) -> [[f32; MR]; NR] {
    let mut acc = [[0.0f32; MR]; NR];
    for (a, b) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(k) {
        for (acc_j, &b_j) in acc.iter_mut().zip(b) {
            for (acc_ij, &a_i) in acc_j.iter_mut().zip(a) {
                *acc_ij += a_i * b_j;
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_columns_are_skipped_exactly() {
        let (m, n, k) = (9, 6, 7);
        // Column 2 of A, and column 4 of B, all zero.
        let a: Vec<f32> = (0..m * k)
            .map(|i| if i / m == 2 { 0.0 } else { (i % 5) as f32 - 2.0 })
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| if i / k == 4 { 0.0 } else { (i % 3) as f32 + 0.5 })
            .collect();
        let ops = Operands {
            a: &a,
            rsa: 1,
            csa: m,
            b: &b,
            rsb: 1,
            csb: k,
        };
        let mut c = vec![f32::NAN; m * n];
        gemm(m, n, k, ops, &mut c, (1, m));
        for j in 0..n {
            for i in 0..m {
                let expected: f32 = (0..k).map(|p| a[i + p * m] * b[p + j * k]).sum();
                assert_eq!(c[j * m + i], expected, "({i}, {j})");
            }
        }
        let zeros = vec![0.0; m * k];
        gemm(m, n, k, Operands { a: &zeros, ..ops }, &mut c, (1, m));
        assert!(c.iter().all(|&v| v == 0.0), "an all-zero A gives zero");
    }

    #[test]
    fn matches_the_naive_product_on_odd_shapes() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 13, 5),
            (8, 4, 3),
            (9, 5, 17),
            (64, 256, 784),
            (33, 10, 64),
            (3, 2, 0),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0).collect();
            // Each operand stored both ways: column-major and row-major.
            for ((rsa, csa), (rsb, csb)) in [((1, m), (n, 1)), ((k, 1), (1, k))] {
                let ops = Operands {
                    a: &a,
                    rsa,
                    csa,
                    b: &b,
                    rsb,
                    csb,
                };
                let (mut c, mut c_rows) = (vec![f32::NAN; m * n], vec![f32::NAN; m * n]);
                gemm(m, n, k, ops, &mut c, (1, m));
                gemm(m, n, k, ops, &mut c_rows, (n, 1)); // C row-major
                for j in 0..n {
                    for i in 0..m {
                        let expected: f32 = (0..k).map(|p| a[i * rsa + p * csa] * b[p * rsb + j * csb]).sum();
                        assert_eq!(c[j * m + i], c_rows[i * n + j], "the same values, row-major");
                        let got = c[j * m + i];
                        assert!(
                            (got - expected).abs() < 1e-3,
                            "({m}, {n}, {k}) at ({i}, {j}): {got} vs {expected}"
                        );
                    }
                }
            }
        }
    }
}
