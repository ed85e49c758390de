//! What the page shows of a trained model: a drawing prepared and classified, and what
//! the first layer's units learned.

pub mod digit;
pub mod predict;
pub mod units;
