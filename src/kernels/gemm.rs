//! The f32 matrix product behind the dense layers in the browser: operands packed into
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
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// C = A B (overwrites C), with C's element (i, j) at `c[i * rsc + j * csc]`.
/// A: (m, k), B: (k, n), C: (m, n)
pub fn gemm(m: usize, n: usize, k: usize, ops: Operands<'_>, c: &mut [f32], (rsc, csc): (usize, usize)) {
    if k == 0 {
        (0..m).for_each(|i| (0..n).for_each(|j| c[i * rsc + j * csc] = 0.0));
        return;
    }
    SCRATCH.with_borrow_mut(|s| {
        // A in panels of MR rows: panel r holds, for each p, rows r*MR.. of column p.
        pack::<MR>(&mut s.a_panels, ops.a, (ops.rsa, ops.csa), m, k);
        // B^T in panels of NR columns of B, the same way.
        pack::<NR>(&mut s.b_panels, ops.b, (ops.csb, ops.rsb), n, k);
        // One tile of C from panel ip of A and panel jp of B, stored where it belongs.
        let mut store = |ip: usize, jp: usize, a_panel: &[f32], b_panel: &[f32]| {
            let tile = tile(k, a_panel, b_panel);
            let (i0, j0) = (ip * MR, jp * NR);
            let rows = MR.min(m - i0);
            for (j, column) in (j0..n.min(j0 + NR)).zip(&tile) {
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
        let (a_panels, b_panels) = (s.a_panels.chunks_exact(MR * k), s.b_panels.chunks_exact(NR * k));
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

/// Pack a matrix with element (r, p) at `src[r * rs + p * ps]` (`count` rows, `depth`
/// columns) into panels of W rows: row t, column p goes to
/// `(t / W) * W * depth + p * W + t % W`; rows past the end are zero.
fn pack<const W: usize>(dst: &mut Vec<f32>, src: &[f32], (rs, ps): (usize, usize), count: usize, depth: usize) {
    let panels = count.div_ceil(W);
    dst.resize(panels * W * depth, 0.0);
    // Every slot is written below but the padding rows of the last panel: zero them.
    if !count.is_multiple_of(W) {
        let last = &mut dst[(panels - 1) * W * depth..];
        last.chunks_exact_mut(W).for_each(|slot| slot[count % W..].fill(0.0));
    }
    if rs == 1 {
        // Rows contiguous in `src`: copy W at a time.
        for p in 0..depth {
            let column = &src[p * ps..][..count];
            for (i, chunk) in column.chunks(W).enumerate() {
                dst[i * W * depth + p * W..][..chunk.len()].copy_from_slice(chunk);
            }
        }
    } else {
        for t in 0..count {
            let row = &src[t * rs..];
            for p in 0..depth {
                dst[(t / W) * W * depth + p * W + t % W] = row[p * ps];
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
