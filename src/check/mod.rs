//! Are the gradients right? Central differences in f64, one step laid open card by
//! card, and a student's own gradients from the notebook checked against ours.

pub mod bundle;
pub mod gradcheck;
pub mod inspect;
pub mod lesson;
