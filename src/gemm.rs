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

thread_local! {
    /// Packed panels of A and B, reused call after call: no allocation per batch.
    static PANELS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// C = A B (overwrites C).   A: (m, k), B: (k, n), C: (m, n)
pub fn gemm(m: usize, n: usize, k: usize, ops: Operands<'_>, c: &mut [f32], ldc: usize) {
    if k == 0 {
        (0..n).for_each(|j| c[j * ldc..][..m].fill(0.0));
        return;
    }
    PANELS.with_borrow_mut(|(a_panels, b_panels)| {
        // A in panels of MR rows: panel r holds, for each p, rows r*MR.. of column p.
        pack::<MR>(a_panels, ops.a, m, k, ops.rsa, ops.csa);
        // B^T in panels of NR columns of B: panel s holds, for each p, columns s*NR.. of row p.
        pack::<NR>(b_panels, ops.b, n, k, ops.csb, ops.rsb);
        // B's panel stays hot in L1 while A's panels stream past it.
        for (jp, b_panel) in b_panels.chunks_exact(NR * k).enumerate() {
            for (ip, a_panel) in a_panels.chunks_exact(MR * k).enumerate() {
                let tile = tile(k, a_panel, b_panel);
                let (i0, j0) = (ip * MR, jp * NR);
                for (j, column) in tile.iter().enumerate().take(n - j0) {
                    let rows = MR.min(m - i0);
                    c[(j0 + j) * ldc + i0..][..rows].copy_from_slice(&column[..rows]);
                }
            }
        }
    });
}

/// Copy the (rows x k) matrix with element (r, p) at `src[r * rs + p * ps]` into panels
/// of W rows: in panel i, element (i * W + w, p) goes to `p * W + w`; rows past the end
/// are zero.
fn pack<const W: usize>(
    dst: &mut Vec<f32>,
    src: &[f32],
    rows: usize,
    k: usize,
    rs: usize,
    ps: usize,
) {
    let panels = rows.div_ceil(W);
    dst.clear();
    dst.resize(panels * W * k, 0.0);
    if rs == 1 {
        // Rows are contiguous in `src`: read each column p once, front to back.
        for p in 0..k {
            let column = &src[p * ps..][..rows];
            let mut chunks = column.chunks_exact(W);
            for (i, chunk) in chunks.by_ref().enumerate() {
                let slot: &mut [f32; W] = (&mut dst[i * W * k + p * W..][..W])
                    .try_into()
                    .expect("W values");
                *slot = chunk.try_into().expect("W values");
            }
            let tail = chunks.remainder();
            dst[(panels - 1) * W * k + p * W..][..tail.len()].copy_from_slice(tail);
        }
    } else {
        for (i, panel) in dst.chunks_exact_mut(W * k).enumerate() {
            let r0 = i * W;
            for w in 0..W.min(rows - r0) {
                let row = &src[(r0 + w) * rs..];
                for (p, slot) in panel.chunks_exact_mut(W).enumerate() {
                    slot[w] = row[p * ps];
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
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
                .collect();
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
                let mut c = vec![f32::NAN; m * n];
                gemm(m, n, k, ops, &mut c, m);
                for j in 0..n {
                    for i in 0..m {
                        let expected: f32 = (0..k)
                            .map(|p| a[i * rsa + p * csa] * b[p * rsb + j * csb])
                            .sum();
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
