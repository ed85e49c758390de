//! Backprop lab: a multilayer perceptron with a hand-written forward and backward pass,
//! checked against finite differences and PyTorch, trained on MNIST in the browser.
//!
//! Modules in the order data flows:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`problem`] | a refusal as a code the page translates, and the form field it concerns |
//! | [`form`] | the page's two forms parsed into a [`train::TrainConfig`] and a [`gradcheck::CheckCase`] |
//! | [`mnist`] | IDX parsing (gzip or raw) with typed errors; u8 images, batches |
//! | [`float`] | the `Float` trait: f32 trains, f64 checks; each names its kernels |
//! | [`kernels`] | the fast products behind a layer (dense, packed simd128, sparse) and a vectorisable exp |
//! | [`activation`] | sigmoid and its derivative |
//! | [`bug`] | "break the backward": classic mistakes, each one line of `backward` written wrong |
//! | [`mlp`] | `Mlp`, the notebook's `CustomMLP`: `forward` fills the cache, `backward` reads it |
//! | [`loss`] | MSE and fused softmax cross-entropy: value and dL/doutput |
//! | [`optim`] | the SGD step |
//! | [`evaluate`] | a model scored on the test set in chunks: accuracy and loss from one pass |
//! | [`train`] | the training step and the loop's state: epochs, batches, statistics, evaluation |
//! | [`gradcheck`] | central differences in f64, the rows the page's table shows |
//! | [`inspect`] | one training step of one sample laid open: every tensor, its equation and the notebook's line |
//! | [`tensors`] | safetensors files read and written, every refusal named |
//! | [`weights`] | the model as the notebook's `state_dict()` in a safetensors file, both ways |
//! | [`bundle`] | a student's own gradients from the notebook, checked against the page's |
//! | [`units`] | what the first layer learned: tiles, one unit closely, the units a drawing lights up |
//! | [`digit`] | canvas pixels to an MNIST-style 28x28 input |
//! | [`predict`] | forward, softmax and arg-max for one input |
//! | [`bench`](mod@bench) | the throughput figures `make bench` prints |
//! | `web` | the only file with `#[wasm_bindgen]`: a thin API over the above |
//!
//! Imports point one way: `kernels` needs only nalgebra; `mlp` needs `float`,
//! `kernels` and `activation`; `train` and `gradcheck` build on `mlp`, `loss` and
//! `optim`; `form` and `web` sit on top.
//!
//! Layout, said once: shapes follow PyTorch (`weight: (out, in)`, `h = x W^T + b`, a
//! batch is `(B, features)`), stored in nalgebra's column-major `DMatrix`, so one feature
//! of a whole batch (a column) is contiguous in memory.

pub mod activation;
pub mod bench;
pub mod bug;
pub mod bundle;
pub mod digit;
pub mod evaluate;
pub mod float;
pub mod form;
pub mod gradcheck;
pub mod inspect;
pub mod kernels;
pub mod loss;
pub mod mlp;
pub mod mnist;
pub mod optim;
pub mod predict;
pub mod problem;
pub mod tensors;
pub mod train;
pub mod units;
pub mod weights;

#[cfg(target_arch = "wasm32")]
mod web;
