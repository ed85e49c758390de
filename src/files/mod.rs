//! Outside bytes in and out: MNIST's IDX files, safetensors, and the notebook's
//! `state_dict` as a weights file. Every refusal is a named [`Problem`](crate::problem::Problem).

pub mod mnist;
pub mod tensors;
pub mod weights;
