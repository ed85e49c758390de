//! The products of a layer whose input is mostly zeros, visiting only the nonzero
//! entries. An MNIST image has about 150 of its 784 pixels inked, so the first layer's
//! forward product and weight gradient do a fifth of the dense work. A skipped term is
//! x * w with x = 0, an exact zero, so the sums are the dense ones.

use super::resize;
use nalgebra::DMatrix;
use nalgebra::RealField;
use std::cell::RefCell;

/// Outputs summed together: accumulators that stay in SIMD registers (8 x f32x4 in
/// wasm; 8 x 8 with AVX2 natively).
const BLOCK: usize = if cfg!(target_feature = "avx2") { 64 } else { 32 };

/// Use the sparse products when at most this share of the input is nonzero.
const MAX_DENSITY: f64 = 0.5;

/// The nonzero entries of a batch x: (B, in), listed by sample and by feature.
#[derive(Clone, Debug, Default)]
pub struct Nonzeros<T> {
    samples: usize,
    features: usize,
    /// Sample b's entries, (live feature, value): `by_sample[sample_start[b]..sample_start[b + 1]]`
    sample_start: Vec<usize>,
    by_sample: Vec<(u32, T)>,
    /// The features with a nonzero entry, ascending: live feature q is feature `live[q]`.
    live: Vec<usize>,
    /// Live feature q's entries, (sample, value): `by_feature[feature_start[q]..feature_start[q + 1]]`
    feature_start: Vec<usize>,
    by_feature: Vec<(u32, T)>,
    /// Per feature: its live index, and its next free slot in `by_feature` (scratch).
    live_index: Vec<u32>,
    next_slot: Vec<usize>,
    /// The other operand of a product, packed in panels (see [`pack_panels`]); reused.
    panels: RefCell<Vec<PanelRow<T>>>,
}

/// BLOCK rows of one column of a packed operand, aligned to a cache line: a vector load
/// then never straddles two lines (the allocator alone aligns to 8 or 16 bytes).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct PanelRow<T>([T; BLOCK]);

impl<T: RealField + Copy> Nonzeros<T> {
    /// Index the nonzero entries of x: (B, in), reusing this storage.
    pub fn gather(&mut self, x: &DMatrix<T>) {
        let (samples, features) = x.shape();
        self.gather_rows(samples, features, |b, entries| {
            let mut n = 0;
            for p in 0..features {
                entries[n] = (p as u32, x[(b, p)]);
                n += usize::from(entries[n].1 != T::zero());
            }
            n
        });
    }

    /// Index a batch given sample by sample: `row(b, entries)` writes sample b's nonzero
    /// entries (feature, value), features ascending, to the start of `entries` (room for
    /// every feature) and returns how many. Reuses this storage.
    pub fn gather_rows(
        &mut self,
        samples: usize,
        features: usize,
        mut row: impl FnMut(usize, &mut [(u32, T)]) -> usize,
    ) {
        self.samples = samples;
        self.features = features;
        self.sample_start.clear();
        self.sample_start.push(0);
        self.next_slot.clear();
        self.next_slot.resize(features, 0);
        let mut len = 0;
        for b in 0..samples {
            // Room for a full row, so it is written without a capacity check per entry.
            if self.by_sample.len() < len + features {
                self.by_sample
                    .resize((len + features).max(2 * self.by_sample.len()), (0, T::zero()));
            }
            let count = row(b, &mut self.by_sample[len..len + features]);
            let next_slot = &mut self.next_slot; // a local: not reloaded after each store
            for &(p, _) in &self.by_sample[len..len + count] {
                next_slot[p as usize] += 1; // for now, the count
            }
            len += count;
            self.sample_start.push(len);
        }
        // The live features, where each one's entries start, and its live index.
        self.live.clear();
        self.feature_start.clear();
        self.live_index.resize(features, 0);
        let mut start = 0;
        for (p, slot) in self.next_slot.iter_mut().enumerate() {
            if *slot > 0 {
                self.live_index[p] = self.live.len() as u32;
                self.live.push(p);
                self.feature_start.push(start);
                (start, *slot) = (start + *slot, start);
            }
        }
        self.feature_start.push(start);
        self.by_feature.resize(start, (0, T::zero()));
        transpose(
            &mut self.by_sample,
            &self.sample_start,
            &mut self.next_slot,
            &self.live_index,
            &mut self.by_feature,
        );
    }

    /// Write the batch these entries index into x: (B, in), zeros elsewhere.
    pub fn write_dense(&self, x: &mut DMatrix<T>) {
        resize(x, self.samples, self.features);
        let x = x.as_mut_slice();
        x.fill(T::zero());
        // Feature by feature, so the writes go forward through memory.
        for (q, &p) in self.live.iter().enumerate() {
            for &(b, v) in self.of_live_feature(q) {
                x[b as usize + p * self.samples] = v;
            }
        }
    }

    /// Whether this indexes exactly the nonzero entries of x (a check for debug builds).
    pub fn indexes(&self, x: &DMatrix<T>) -> bool {
        let nonzero = x.iter().filter(|&&v| v != T::zero()).count();
        x.shape() == (self.samples, self.features)
            && nonzero == self.sample_start[self.samples]
            && (0..self.samples).all(|b| {
                self.of_sample(b)
                    .iter()
                    .all(|&(q, v)| x[(b, self.live[q as usize])] == v)
            })
    }

    /// B, the number of samples indexed.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Whether the sparse products beat the dense ones on this batch.
    pub fn is_sparse(&self) -> bool {
        let size = (self.samples * self.features).max(1);
        (self.by_feature.len() as f64) <= MAX_DENSITY * size as f64
    }

    fn of_sample(&self, b: usize) -> &[(u32, T)] {
        &self.by_sample[self.sample_start[b]..self.sample_start[b + 1]]
    }

    fn of_live_feature(&self, q: usize) -> &[(u32, T)] {
        &self.by_feature[self.feature_start[q]..self.feature_start[q + 1]]
    }
}

/// Copy each sample's entries (feature p, value) to the by-feature lists, at
/// `next_slot[p]` (which then moves on), and relabel them by live index. Samples go in
/// order, so each feature's entries come out by ascending sample. Slices, not `self`:
/// the compiler then keeps their addresses in registers across the stores.
fn transpose<T: RealField + Copy>(
    by_sample: &mut [(u32, T)],
    sample_start: &[usize],
    next_slot: &mut [usize],
    live_index: &[u32],
    by_feature: &mut [(u32, T)],
) {
    for (b, bounds) in sample_start.windows(2).enumerate() {
        for entry in &mut by_sample[bounds[0]..bounds[1]] {
            let p = entry.0 as usize;
            let slot = &mut next_slot[p];
            by_feature[*slot] = (b as u32, entry.1);
            *slot += 1;
            entry.0 = live_index[p];
        }
    }
}

/// Forward: h = x W^T.   x: (B, in) as nonzeros, w: (out, in), h: (B, out)
pub fn x_wt<T: RealField + Copy>(x: &Nonzeros<T>, w: &DMatrix<T>, h: &mut DMatrix<T>) {
    let (outputs, batch) = (w.nrows(), x.samples);
    debug_assert_eq!((w.ncols(), h.shape()), (x.features, (batch, outputs)));
    let panels = &mut *x.panels.borrow_mut();
    // Column j of the panels: W's column live[j]. A(o, j) = w[o + live[j] * out]
    pack_panels(panels, w.as_slice(), (1, outputs), outputs, x.live.iter().copied());
    let h = h.as_mut_slice();
    if x.live.is_empty() {
        h.fill(T::zero()); // no panels: the loop below writes nothing
    }
    // h[b, o] = sum over row b's nonzeros (q, v) of v * W[o, live[q]], each one written
    // One panel (block of outputs) for every sample, so the panel stays in cache.
    let panel_size = x.live.len().max(1);
    for (o, panel) in (0..outputs).step_by(BLOCK).zip(panels.chunks_exact(panel_size)) {
        for b in 0..batch {
            let sums = weighted_sum(panel, x.of_sample(b));
            for (i, &sum) in sums[..BLOCK.min(outputs - o)].iter().enumerate() {
                h[b + (o + i) * batch] = sum;
            }
        }
    }
}

/// Weight gradient: dW = g^T x.   g: (B, out), x: (B, in) as nonzeros, dw: (out, in)
pub fn gt_x<T: RealField + Copy>(g: &DMatrix<T>, x: &Nonzeros<T>, dw: &mut DMatrix<T>) {
    let outputs = g.ncols();
    debug_assert_eq!(dw.shape(), (outputs, x.features));
    let dw = dw.as_mut_slice();
    // Features with no nonzero entry have a zero gradient.
    let mut dead = 0;
    for &p in x.live.iter().chain([&x.features]) {
        dw[dead * outputs..p * outputs].fill(T::zero());
        dead = p + 1;
    }
    weight_gradient(g, x, |p, o, sums| {
        dw[o + p * outputs..][..sums.len()].copy_from_slice(sums)
    });
}

/// The SGD step W -= lr * dW with dW = g^T x (as [`gt_x`]), without storing dW: each
/// block of a live column of W is updated as soon as its gradient is summed.
/// Columns of features with no nonzero entry have a zero gradient and stay as they are,
/// so W ends exactly as after `gt_x` then the step.   g: (B, out), w: (out, in)
pub fn gt_x_descend<T: RealField + Copy>(g: &DMatrix<T>, x: &Nonzeros<T>, w: &mut DMatrix<T>, learning_rate: T) {
    let outputs = g.ncols();
    debug_assert_eq!(w.shape(), (outputs, x.features));
    let w = w.as_mut_slice();
    weight_gradient(g, x, |p, o, sums| {
        for (weight, &dw) in w[o + p * outputs..].iter_mut().zip(sums) {
            *weight -= learning_rate * dw;
        }
    });
}

/// dW = g^T x over the live features, handed out as it is summed: `use_sums(p, o, sums)`
/// gets dW[o.., p], one block of rows at a time, every live column for one block of
/// rows before the next, so that block's panel of g (B x BLOCK) stays in L1.
/// dW[o, live[q]] = sum over live feature q's nonzeros (b, v) of v * g[b, o]
fn weight_gradient<T: RealField + Copy>(g: &DMatrix<T>, x: &Nonzeros<T>, mut use_sums: impl FnMut(usize, usize, &[T])) {
    let (batch, outputs) = g.shape();
    debug_assert_eq!(batch, x.samples);
    let panels = &mut *x.panels.borrow_mut();
    // Column b of the panels: g's row b. A(o, b) = g[b + o * B]
    pack_panels(panels, g.as_slice(), (batch, 1), outputs, 0..batch);
    for (o, panel) in (0..outputs).step_by(BLOCK).zip(panels.chunks_exact(batch)) {
        let rows = BLOCK.min(outputs - o);
        for (q, &p) in x.live.iter().enumerate() {
            use_sums(p, o, &weighted_sum(panel, x.of_live_feature(q))[..rows]);
        }
    }
}

/// Pack the columns `columns` of A (len rows; element (o, c) at `a[o * rs + c * cs]`)
/// into panels of BLOCK rows: panel k holds rows k*BLOCK.. of each column in turn,
/// contiguous and zero-padded, so a product reads one block of rows from one
/// contiguous stretch of memory (A's own columns are 1 KiB apart for 256 outputs,
/// which maps them onto a few cache sets and misses on every read). The panels are the
/// first `len.div_ceil(BLOCK) * columns.len()` rows of `panels`; any rows after them
/// are left as they were.
fn pack_panels<T: RealField + Copy>(
    panels: &mut Vec<PanelRow<T>>,
    a: &[T],
    (rs, cs): (usize, usize),
    len: usize,
    columns: impl ExactSizeIterator<Item = usize>,
) {
    let count = columns.len();
    // Grown, never shrunk: the forward's panels are larger than the weight gradient's,
    // and resizing back up would clear half a megabyte a batch that is written anyway.
    let size = len.div_ceil(BLOCK) * count;
    if panels.len() < size {
        panels.resize(size, PanelRow([T::zero(); BLOCK]));
    }
    for (j, c) in columns.enumerate() {
        for (k, o) in (0..len).step_by(BLOCK).enumerate() {
            let rows = BLOCK.min(len - o);
            let slot = &mut panels[k * count + j].0;
            if rs == 1 {
                slot[..rows].copy_from_slice(&a[o + c * cs..][..rows]);
            } else {
                for (i, s) in slot[..rows].iter_mut().enumerate() {
                    *s = a[(o + i) * rs + c * cs];
                }
            }
            slot[rows..].fill(T::zero());
        }
    }
}

/// The sum over entries (j, v), in order, of v * (column j of a panel packed by
/// [`pack_panels`]): BLOCK sums at once, held in registers.
fn weighted_sum<T: RealField + Copy>(panel: &[PanelRow<T>], entries: &[(u32, T)]) -> [T; BLOCK] {
    let mut acc = [T::zero(); BLOCK];
    for &(j, v) in entries {
        for (a, &s) in acc.iter_mut().zip(&panel[j as usize].0) {
            *a += v * s;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch with about a third of its entries zero, whole zero rows and columns included.
    fn mostly_zero(rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |r, c| {
            let v = ((r * 7 + c * 13) as f64 * 0.37).sin();
            if r == 1 || c == 2 || (r + c) % 3 == 0 {
                0.0
            } else {
                v
            }
        })
    }

    #[test]
    fn index_lists_every_nonzero_in_order() {
        let x = mostly_zero(5, 6);
        let mut nz = Nonzeros::default();
        nz.gather(&x);
        let live: Vec<usize> = (0..6).filter(|&p| (0..5).any(|b| x[(b, p)] != 0.0)).collect();
        assert_eq!(nz.live, live);
        assert!(!live.contains(&2), "column 2 is all zero");
        for b in 0..5 {
            let expected: Vec<_> = (0..live.len())
                .filter(|&q| x[(b, live[q])] != 0.0)
                .map(|q| (q as u32, x[(b, live[q])]))
                .collect();
            assert_eq!(nz.of_sample(b), expected.as_slice(), "sample {b}");
        }
        for (q, &p) in live.iter().enumerate() {
            let expected: Vec<_> = (0..5)
                .filter(|&b| x[(b, p)] != 0.0)
                .map(|b| (b as u32, x[(b, p)]))
                .collect();
            assert_eq!(nz.of_live_feature(q), expected.as_slice(), "feature {p}");
        }
        assert!(nz.of_sample(1).is_empty(), "row 1 is all zero");
    }

    #[test]
    fn products_match_dense_on_odd_shapes() {
        for &(b, inp, out) in &[
            (1, 1, 1),
            (7, 13, 5),
            (3, 9, 37),
            (64, 784, 256),
            (33, 40, 70),
            (4, 6, 0),
        ] {
            let x = mostly_zero(b, inp);
            let w = DMatrix::from_fn(out, inp, |r, c| ((r * 5 + c * 3) as f64 * 0.21).cos());
            let g = DMatrix::from_fn(b, out, |r, c| ((r * 11 + c) as f64 * 0.13).sin());
            let mut nz = Nonzeros::default();
            nz.gather(&x);
            let mut h = DMatrix::from_element(b, out, f64::NAN);
            x_wt(&nz, &w, &mut h);
            assert!((&h - &x * w.transpose()).norm() < 1e-10, "forward ({b}, {inp}, {out})");
            let mut dw = DMatrix::from_element(out, inp, f64::NAN);
            gt_x(&g, &nz, &mut dw);
            assert!(
                (&dw - g.transpose() * &x).norm() < 1e-10,
                "weight grad ({b}, {inp}, {out})"
            );
        }
    }

    #[test]
    fn density_decides() {
        let mut nz = Nonzeros::default();
        nz.gather(&DMatrix::<f32>::from_element(4, 4, 1.0));
        assert!(!nz.is_sparse());
        nz.gather(&DMatrix::<f32>::zeros(4, 4));
        assert!(nz.is_sparse());
    }
}
