//! A model scored on the test set in chunks the page can yield between: the accuracy,
//! the mean cross-entropy, the confusion matrix and each image's answer, from one pass.

use crate::files::mnist::{Dataset, CLASSES};
use crate::kernels::resize;
use crate::model::loss::predicted_classes;
use crate::model::loss::softmax_cross_entropy;
use crate::model::mlp::{Cache, Input, Mlp};
use nalgebra::DMatrix;

/// Test images per step: large enough to be efficient, small enough for a frame.
pub const EVAL_CHUNK: usize = 500;

/// What a finished pass found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Percent of the test set classified right.
    pub accuracy: f64,
    /// Mean cross-entropy over the test set.
    pub loss: f64,
}

/// Rows: the true digit; columns: the predicted one.
pub type Confusion = [[u32; CLASSES]; CLASSES];

/// Each cell as a share of its row (its true digit's images), row by row
/// (`[truth * 10 + predicted]`); an empty row's shares are 0.
pub fn row_shares(confusion: &Confusion) -> Vec<f64> {
    confusion
        .iter()
        .flat_map(|row| {
            let total = row.iter().sum::<u32>().max(1) as f64;
            row.iter().map(move |&count| count as f64 / total)
        })
        .collect()
}

/// Each digit's recall: the share of its images read right (the diagonal's shares).
pub fn recall(confusion: &Confusion) -> Vec<f64> {
    let shares = row_shares(confusion);
    (0..CLASSES).map(|digit| shares[digit * CLASSES + digit]).collect()
}

/// What the model said of one test image.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Answer {
    pub predicted: u8,
    /// `softmax(output)[predicted]`
    pub confidence: f32,
}

/// One pass over a test set, a chunk per [`step`](Self::step); its buffers are reused
/// pass after pass.
#[derive(Clone, Debug)]
pub struct Evaluation {
    done: usize,
    /// The pass has scored every image of its test set.
    complete: bool,
    correct: usize,
    loss_sum: f64,
    confusion: Confusion,
    /// One per test image, in order.
    answers: Vec<Answer>,
    cache: Cache<f32>,
    grad: DMatrix<f32>,
    indices: Vec<usize>,
    labels: Vec<usize>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            done: 0,
            complete: false,
            correct: 0,
            loss_sum: 0.0,
            confusion: [[0; CLASSES]; CLASSES],
            answers: Vec::new(),
            cache: Cache::of(Input::Dense(DMatrix::zeros(0, 0))),
            grad: DMatrix::zeros(EVAL_CHUNK, CLASSES),
            indices: Vec::with_capacity(EVAL_CHUNK),
            labels: Vec::with_capacity(EVAL_CHUNK),
        }
    }
}

impl Evaluation {
    /// Start a new pass (the buffers stay).
    pub fn restart(&mut self) {
        self.done = 0;
        self.complete = false;
        self.correct = 0;
        self.loss_sum = 0.0;
        self.confusion = [[0; CLASSES]; CLASSES];
        self.answers.clear();
    }

    /// Score the next chunk of `test` with `mlp`; returns how many images are done.
    pub fn step(&mut self, mlp: &Mlp<f32>, test: &Dataset) -> usize {
        let end = (self.done + EVAL_CHUNK).min(test.len());
        self.indices.clear();
        self.indices.extend(self.done..end);
        test.fill_batch(&self.indices, &mut self.cache.input, &mut self.labels);
        mlp.forward(&mut self.cache);
        resize(&mut self.grad, self.indices.len(), CLASSES);
        let chunk_loss = softmax_cross_entropy(&self.cache.output, &self.labels, &mut self.grad);
        self.loss_sum += chunk_loss as f64 * self.indices.len() as f64;
        for ((predicted, &label), logits) in predicted_classes(&self.cache.output)
            .zip(&self.labels)
            .zip(self.cache.output.row_iter())
        {
            self.correct += usize::from(predicted == label);
            self.confusion[label][predicted] += 1;
            // softmax's largest value: 1 / sum(e^(z - z_max))
            let top = logits[predicted];
            let total: f32 = logits.iter().map(|&z| (z - top).exp()).sum();
            self.answers.push(Answer {
                predicted: predicted as u8,
                confidence: 1.0 / total,
            });
        }
        self.done = end;
        self.complete = end == test.len();
        end
    }

    /// Images scored so far in this pass.
    pub fn score_count(&self) -> usize {
        self.done
    }

    /// Whether the pass has scored the whole test set.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The confusion matrix so far: `[true][predicted]` counts.
    pub fn confusion(&self) -> &Confusion {
        &self.confusion
    }

    /// Every image scored so far, in test-set order.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// The images of digit `truth` the model called `predicted`, most confident first:
    /// how many there are, and `limit` of them from `offset` on, as (index, confidence).
    pub fn gallery(
        &self,
        test: &Dataset,
        truth: usize,
        predicted: usize,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<(usize, f32)>) {
        let mut cell: Vec<(usize, f32)> = (self.answers.iter().enumerate())
            .filter(|&(i, a)| test.label(i) == truth && a.predicted as usize == predicted)
            .map(|(i, a)| (i, a.confidence))
            .collect();
        cell.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let total = cell.len();
        (total, cell.into_iter().skip(offset).take(limit).collect())
    }

    /// The score so far (of the whole set once `step` has returned its size).
    pub fn score(&self) -> Score {
        let n = self.done.max(1) as f64;
        Score {
            accuracy: 100.0 * self.correct as f64 / n,
            loss: self.loss_sum / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::predict::classify;

    #[test]
    fn the_matrix_and_answers_match_a_plain_loop_and_the_accuracy() {
        let test = crate::test_support::synthetic(1234, 5);
        let mut mlp = Mlp::<f32>::new(784, &[12], 10, 2);
        mlp.output_layer.bias[3] += 0.5; // some digits right, some wrong
        let mut evaluation = Evaluation::default();
        while evaluation.step(&mlp, &test) < test.len() {}
        let mut expected = [[0u32; CLASSES]; CLASSES];
        for i in 0..test.len() {
            let p = classify(&mlp, &test.input(i));
            expected[test.label(i)][p.class] += 1;
            let answer = evaluation.answers()[i];
            assert_eq!(answer.predicted as usize, p.class, "image {i}");
            assert!((answer.confidence - p.probabilities[p.class]).abs() < 1e-5);
        }
        assert_eq!(evaluation.confusion(), &expected);
        let diagonal: u32 = (0..CLASSES).map(|c| expected[c][c]).sum();
        let total: u32 = expected.iter().flatten().sum();
        assert_eq!(total as usize, test.len());
        assert!(diagonal > 0 && (diagonal as usize) < test.len());
        assert_eq!(evaluation.score().accuracy, 100.0 * diagonal as f64 / test.len() as f64);
        // A cell's gallery: that cell's images, most confident first, in pages.
        let (truth, predicted) = (0..CLASSES)
            .flat_map(|t| (0..CLASSES).map(move |p| (t, p)))
            .max_by_key(|&(t, p)| if t == p { 0 } else { expected[t][p] })
            .unwrap();
        let (count, first) = evaluation.gallery(&test, truth, predicted, 0, 3);
        assert_eq!(count, expected[truth][predicted] as usize);
        assert!(count > 3, "a cell with a few images");
        assert!(first.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(first.iter().all(|&(i, _)| test.label(i) == truth));
        let (_, rest) = evaluation.gallery(&test, truth, predicted, 3, 100);
        assert_eq!(rest.len(), (count - 3).min(100), "at most a page of 100");
        assert!(rest[0].1 <= first[2].1);
        evaluation.restart();
        assert_eq!(evaluation.confusion(), &[[0; CLASSES]; CLASSES]);
    }

    #[test]
    fn shares_are_of_each_row_and_recall_is_the_diagonals() {
        let mut confusion: Confusion = [[0; CLASSES]; CLASSES];
        confusion[3][3] = 3;
        confusion[3][5] = 1;
        confusion[5][5] = 2;
        let shares = row_shares(&confusion);
        assert_eq!((shares[33], shares[35], shares[55]), (0.75, 0.25, 1.0));
        assert_eq!(shares[0], 0.0, "an empty row");
        let recall = recall(&confusion);
        assert_eq!((recall[3], recall[5], recall[0]), (0.75, 1.0, 0.0));
    }
}
