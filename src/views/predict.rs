//! Classifying with the current weights: forward, softmax, arg-max.

use crate::files::mnist::Dataset;
use crate::model::loss::{predicted_classes, softmax};
use crate::model::mlp::{Cache, Input, Mlp};
use nalgebra::DMatrix;

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

/// Images classified per forward pass while searching for a mistake.
const SEARCH_CHUNK: usize = 256;

/// The first image at or after `from` (wrapping round) that the model classifies
/// wrong, or `None` when it gets every one right.
pub fn next_misclassified(mlp: &Mlp<f32>, data: &Dataset, from: usize) -> Option<usize> {
    let n = data.len();
    let mut cache = Cache::of(Input::Dense(DMatrix::zeros(0, 0)));
    let mut labels = Vec::new();
    for start in (0..n).step_by(SEARCH_CHUNK) {
        let indices: Vec<usize> = (start..n.min(start + SEARCH_CHUNK)).map(|k| (from + k) % n).collect();
        data.fill_batch(&indices, &mut cache.input, &mut labels);
        mlp.forward(&mut cache);
        let wrong = predicted_classes(&cache.output).zip(&labels).position(|(p, &y)| p != y);
        if let Some(k) = wrong {
            return Some(indices[k]);
        }
    }
    None
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

    #[test]
    fn the_next_mistake_is_found_from_where_the_search_starts() {
        let data = crate::test_support::synthetic(600, 3);
        let mlp = Mlp::<f32>::new(784, &[], 10, 1);
        let wrong = |i: usize| classify(&mlp, &data.input(i)).class != data.label(i);
        let all: Vec<usize> = (0..600).filter(|&i| wrong(i)).collect();
        assert!(
            all.len() > 2 && all.len() < 600,
            "an untrained model gets some right, some wrong"
        );
        assert_eq!(next_misclassified(&mlp, &data, 0), Some(all[0]));
        assert_eq!(next_misclassified(&mlp, &data, all[0] + 1), Some(all[1]));
        let last = *all.last().unwrap();
        assert_eq!(next_misclassified(&mlp, &data, last + 1), Some(all[0]), "wraps round");
        let mut perfect = Mlp::<f32>::new(784, &[], 10, 1);
        perfect.output_layer.weight.fill(0.0);
        perfect.output_layer.bias.fill(0.0);
        let one_class = crate::test_support::synthetic(1, 3); // a single image, of class 0
        assert_eq!(next_misclassified(&perfect, &one_class, 0), None, "ties go to class 0");
    }
}
