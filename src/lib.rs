//! Backprop lab: a multilayer perceptron with a hand-written forward and backward pass,
//! checked against finite differences and PyTorch, trained on MNIST in the browser.
//!
//! Modules in the order data flows:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`fields`] | parsing what the user typed; refusals as codes the page translates |
//! | [`float`] | the `Float` trait: f32 for training, f64 for checking |
//! | [`matmul`] | the three matrix products a layer needs (forward, weight grad, input grad) |
//! | [`gemm`] | the f32 micro-kernel behind the products in the browser |
//! | [`sparse`] | the first layer's products over only the nonzero pixels |
//! | [`activation`] | sigmoid and its derivative |
//! | [`mlp`] | `Mlp`: parameters, `forward` (fills the cache), `backward` (reads it) |
//! | [`loss`] | MSE and fused softmax cross-entropy: value and dL/doutput |
//! | [`optim`] | the SGD step |
//! | [`gradcheck`] | central differences in f64, the rows the page's table shows |
//! | [`mnist`] | IDX parsing (gzip or raw) with typed errors; u8 images, batches |
//! | [`train`] | the training loop's state: epochs, batches, statistics, evaluation |
//! | [`digit`] | canvas pixels to an MNIST-style 28x28 input |
//! | `web` | the only file with `#[wasm_bindgen]`: a thin API over the above |
//!
//! Layout convention, said once: shapes follow PyTorch (`weight: (out, in)`,
//! `h = x W^T + b`, a batch is `(B, features)`), stored in nalgebra's column-major
//! `DMatrix`, so one feature of a whole batch (a column) is contiguous in memory.

pub mod activation;
pub mod digit;
pub mod fields;
pub mod float;
pub mod gemm;
pub mod gradcheck;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod mnist;
pub mod optim;
pub mod sparse;
pub mod train;

#[cfg(target_arch = "wasm32")]
mod web;
