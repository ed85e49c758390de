//! How Rust refuses something the user gave it, without writing a sentence: a code the
//! page's string table translates (English and Chinese) and the values to fill in.

use std::fmt;

/// A refusal: a string-table code and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub args: Vec<String>,
}

impl Problem {
    pub fn new(code: &'static str, args: &[&dyn fmt::Display]) -> Self {
        Problem {
            code,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code, self.args.join(", "))
    }
}

impl std::error::Error for Problem {}

/// A refused form field: the field's id on the page (`hidden`, `lr`, `input_dim`, ...)
/// and why, so the page shows the message beside that field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: &'static str, problem: Problem) -> Self {
        FieldError { field, problem }
    }
}
