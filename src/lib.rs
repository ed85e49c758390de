//! Backprop lab: a multilayer perceptron with a hand-written forward and backward pass,
//! checked against finite differences and PyTorch, trained on MNIST in the browser.
//!
//! The layers, lowest first; a module imports only from the rows above its own:
//!
//! | layer | modules | what it holds |
//! | --- | --- | --- |
//! | [`problem`] | | a refusal as a code the page translates, and the form field it concerns |
//! | [`kernels`] | dense, gemm, sparse, exp | the fast products behind a layer, each beside its plain-loop reference |
//! | [`model`] | float, activation, mlp, bug, loss, optim | the notebook's `CustomMLP`: forward fills the cache, backward reads it; the losses, the optimisers, and the mistakes of "break the backward" |
//! | [`files`] | mnist, tensors, weights | IDX and safetensors read and written, every refusal named |
//! | [`train`] | evaluate | the training loop one step at a time: batches, epochs, the test set scored in chunks, the gradient flow |
//! | [`check`] | gradcheck, inspect, bundle, lesson | central differences in f64, one step laid open, a student's own gradients checked, the chain rule for one weight |
//! | [`views`] | predict, units, digit | a drawing classified, what the first layer learned |
//! | [`schema`], [`form`] | | the page's choices described once (fields, defaults, options, presets), and its forms parsed by those names |
//! | [`session`] | | the page's run rules: when a run may start, continue or resume, what an export says, which model and evaluation a view uses |
//! | [`bench`](mod@bench) | | the throughput figures `make bench` prints |
//! | `web` | | the only `#[wasm_bindgen]` code: JS values to Rust calls and back |
//!
//! Layout, said once: shapes follow PyTorch (`weight: (out, in)`, `h = x W^T + b`, a
//! batch is `(B, features)`), stored in nalgebra's column-major `DMatrix`, so one feature
//! of a whole batch (a column) is contiguous in memory.

pub mod bench;
pub mod check;
pub mod files;
pub mod form;
pub mod kernels;
pub mod model;
pub mod problem;
pub mod schema;
pub mod session;
pub mod train;
pub mod views;

#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod web;
