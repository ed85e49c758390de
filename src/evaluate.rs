//! A model scored on the test set in chunks the page can yield between: the accuracy
//! and the mean cross-entropy, from one pass.

use crate::kernels::resize;
use crate::loss::softmax_cross_entropy;
use crate::mlp::{Cache, Input, Mlp};
use crate::mnist::{Dataset, CLASSES};
use crate::predict::predicted_classes;
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

/// One pass over a test set, a chunk per [`step`](Self::step); its buffers are reused
/// pass after pass.
#[derive(Clone, Debug)]
pub struct Evaluation {
    done: usize,
    correct: usize,
    loss_sum: f64,
    cache: Cache<f32>,
    grad: DMatrix<f32>,
    indices: Vec<usize>,
    labels: Vec<usize>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            done: 0,
            correct: 0,
            loss_sum: 0.0,
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
        self.correct = 0;
        self.loss_sum = 0.0;
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
        self.correct += predicted_classes(&self.cache.output)
            .zip(&self.labels)
            .filter(|(p, &y)| *p == y)
            .count();
        self.done = end;
        end
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
