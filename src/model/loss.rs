//! Losses: the value and dL/doutput, as PyTorch defines them.
//!
//! * MSE (`F.mse_loss`): mean over every element of (output - target)^2;
//!   dL/doutput = 2 (output - target) / (B * out).
//! * Softmax cross-entropy on logits (`F.cross_entropy`), mean over the batch:
//!   `L = mean_b [ logsumexp(z_b) - z_b[y_b] ]`; `dL/dz = (softmax(z) - onehot(y)) / B`.
//!   Fused and stable: the max logit is subtracted before exponentiating.

use crate::model::float::Float;
use nalgebra::DMatrix;

/// MSE value; writes dL/doutput into `grad`.   output, target, grad: (B, out)
pub fn mse<T: Float>(output: &DMatrix<T>, target: &DMatrix<T>, grad: &mut DMatrix<T>) -> T {
    debug_assert_eq!(output.shape(), target.shape());
    let n = T::of(output.len() as f64);
    let two = T::of(2.0);
    grad.copy_from(output);
    *grad -= target;
    let value = grad.norm_squared() / n;
    *grad *= two / n;
    value
}

/// Mean softmax cross-entropy of `logits` (B, classes) against `labels` (B,);
/// writes dL/dlogits into `grad`. Every label must be below `classes`.
pub fn softmax_cross_entropy<T: Float>(logits: &DMatrix<T>, labels: &[usize], grad: &mut DMatrix<T>) -> T {
    let (batch, classes) = logits.shape();
    debug_assert_eq!(labels.len(), batch);
    debug_assert!(labels.iter().all(|&y| y < classes));
    let inv_batch = T::one() / T::of(batch as f64);
    let mut total = T::zero();
    for (b, &label) in labels.iter().enumerate() {
        let row = logits.row(b);
        let max = row.max();
        let mut sum = T::zero();
        for c in 0..classes {
            let e = (logits[(b, c)] - max).exp();
            grad[(b, c)] = e;
            sum += e;
        }
        // log softmax(z)[y] = z[y] - max - log(sum exp(z - max))
        total += sum.ln() + max - logits[(b, label)];
        for c in 0..classes {
            let onehot = if c == label { T::one() } else { T::zero() };
            grad[(b, c)] = (grad[(b, c)] / sum - onehot) * inv_batch;
        }
    }
    total * inv_batch
}

/// Class probabilities softmax(z) for one row of logits, stable for any magnitude.
pub fn softmax<T: Float>(logits: &[T]) -> Vec<T> {
    let max = logits.iter().copied().fold(T::min_value().unwrap_or(T::zero()), T::max);
    let exps: Vec<T> = logits.iter().map(|&z| (z - max).exp()).collect();
    let sum = exps.iter().copied().fold(T::zero(), |a, b| a + b);
    exps.into_iter().map(|e| e / sum).collect()
}

/// Which loss a case uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    Mse,
    CrossEntropy,
}

impl LossKind {
    /// The form's and a bundle's name: `mse` or `cross_entropy`.
    pub fn code(self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::CrossEntropy => "cross_entropy",
        }
    }
}

/// The arg-max class of each row of logits (B, classes).
pub fn predicted_classes(logits: &DMatrix<f32>) -> impl Iterator<Item = usize> + '_ {
    logits.row_iter().map(|row| row.transpose().imax())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_is_finite_for_huge_logits() {
        let logits = DMatrix::from_row_slice(2, 3, &[1000.0_f32, -1000.0, 0.0, -1000.0, -1000.0, 1000.0]);
        let mut grad = DMatrix::zeros(2, 3);
        let loss = softmax_cross_entropy(&logits, &[1, 2], &mut grad);
        // Sample 0 puts all mass on class 0 and is labelled 1: loss 2000; sample 1 is right: 0.
        assert!((loss - 1000.0).abs() < 1e-3, "loss {loss}");
        assert!(grad.iter().all(|g| g.is_finite()));
        assert!((grad[(0, 0)] - 0.5).abs() < 1e-6 && (grad[(0, 1)] + 0.5).abs() < 1e-6);
    }

    #[test]
    fn cross_entropy_gradient_rows_sum_to_zero() {
        let logits = DMatrix::from_fn(4, 5, |r, c| (r as f64 - c as f64) * 0.3);
        let mut grad = DMatrix::zeros(4, 5);
        let loss = softmax_cross_entropy(&logits, &[0, 1, 2, 4], &mut grad);
        assert!(loss > 0.0);
        for r in 0..4 {
            assert!(grad.row(r).sum().abs() < 1e-15);
        }
    }

    #[test]
    fn softmax_sums_to_one_even_for_huge_logits() {
        let p = softmax(&[1000.0_f32, 0.0, -1000.0]);
        assert_eq!(p, vec![1.0, 0.0, 0.0]);
        let p = softmax(&[1.0_f64, 2.0, 3.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((p[2] / p[1] - std::f64::consts::E).abs() < 1e-12);
    }

    #[test]
    fn mse_matches_hand_computation() {
        let out = DMatrix::from_row_slice(1, 2, &[1.0_f64, 3.0]);
        let target = DMatrix::from_row_slice(1, 2, &[0.0, 1.0]);
        let mut grad = DMatrix::zeros(1, 2);
        assert_eq!(mse(&out, &target, &mut grad), 2.5);
        assert_eq!(grad.as_slice(), &[1.0, 2.0]);
    }
}
