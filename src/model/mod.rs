//! The model and its maths: the notebook's `CustomMLP` with a hand-written backward,
//! its activations, losses and optimisers, and the mistakes "break the backward" makes.

pub mod activation;
pub mod bug;
pub mod float;
pub mod loss;
pub mod mlp;
pub mod optim;
