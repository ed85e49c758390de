//! Classifying with the current weights: forward, softmax, arg-max.

use crate::loss::softmax;
use crate::mlp::Mlp;
use nalgebra::DMatrix;

/// The arg-max class of each row of logits (B, classes).
pub fn predicted_classes(logits: &DMatrix<f32>) -> impl Iterator<Item = usize> + '_ {
    logits.row_iter().map(|row| row.transpose().imax())
}

/// What the model makes of one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The most probable class
    pub class: usize,
    /// softmax(output), one per class
    pub probabilities: Vec<f32>,
}

/// Classify one input x: (in,), e.g. a drawn digit's 784 pixels.
pub fn classify(mlp: &Mlp<f32>, x: &[f32]) -> Prediction {
    let cache = mlp.forward_batch(DMatrix::from_row_slice(1, x.len(), x));
    let probabilities = softmax(cache.output.as_slice());
    let class = predicted_classes(&cache.output).next().unwrap_or(0);
    Prediction { class, probabilities }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_is_the_largest_logit_and_probabilities_sum_to_one() {
        let mut mlp = Mlp::<f32>::new(3, &[], 4, 1);
        mlp.output_layer.weight.fill(0.0);
        mlp.output_layer.bias.copy_from_slice(&[0.1, 2.0, -1.0, 0.5]);
        let p = classify(&mlp, &[0.3, 0.0, 0.7]);
        assert_eq!(p.class, 1);
        assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let logits = DMatrix::from_row_slice(2, 3, &[0.0f32, 5.0, 1.0, 9.0, -1.0, 3.0]);
        assert_eq!(predicted_classes(&logits).collect::<Vec<_>>(), [1, 0]);
    }
}
