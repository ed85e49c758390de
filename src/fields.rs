//! What the user typed, parsed and checked in Rust so `cargo test` covers it.
//!
//! A refusal is a [`Problem`]: a code the page's string table translates (English and
//! Chinese) and the values to fill in, so no user-facing sentence lives in Rust.

use std::fmt;
use std::num::IntErrorKind;

/// A refused input: a string-table code and its arguments.
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

/// A whole number in `min..=max`, e.g. a layer width or a batch size.
pub fn parse_count(text: &str, min: usize, max: usize) -> Result<usize, Problem> {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(n) if n < min as i64 => Err(Problem::new("too_small", &[&n, &min])),
        Ok(n) if n > max as i64 => Err(Problem::new("too_large", &[&n, &max])),
        Ok(n) => Ok(n as usize),
        // Whole numbers past i64 are still whole numbers: say which way they are off.
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(Problem::new("too_large", &[&text, &max])),
        Err(e) if *e.kind() == IntErrorKind::NegOverflow => Err(Problem::new("too_small", &[&text, &min])),
        Err(_) if text.is_empty() => Err(Problem::new("required", &[])),
        Err(_) => Err(Problem::new("not_integer", &[&text])),
    }
}

/// A comma-separated list of layer widths, e.g. `16,4`; empty means no hidden layer.
pub fn parse_dims(text: &str, max_width: usize) -> Result<Vec<usize>, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| match part.trim() {
            "" => Err(Problem::new("empty_width", &[])),
            part => parse_count(part, 1, max_width),
        })
        .collect()
}

/// A positive finite number, e.g. a learning rate, at most `max`.
pub fn parse_positive(text: &str, max: f64) -> Result<f64, Problem> {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(Problem::new("not_number", &[&text])),
        Ok(v) if v <= 0.0 => Err(Problem::new("not_positive", &[&text])),
        Ok(v) if v > max => Err(Problem::new("too_large", &[&text, &max])),
        Ok(v) => Ok(v),
        Err(_) if text.is_empty() => Err(Problem::new("required", &[])),
        Err(_) => Err(Problem::new("not_number", &[&text])),
    }
}

/// A random seed: any whole number from 0 to 2^32 - 1.
pub fn parse_seed(text: &str) -> Result<u64, Problem> {
    parse_count(text, 0, u32::MAX as usize).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_accept_lists_and_refuse_garbage() {
        assert_eq!(parse_dims("16,4", 100).unwrap(), vec![16, 4]);
        assert_eq!(parse_dims(" 256 ", 1000).unwrap(), vec![256]);
        assert_eq!(parse_dims("", 10).unwrap(), Vec::<usize>::new());
        assert_eq!(
            parse_dims("16,x", 100).unwrap_err(),
            Problem::new("not_integer", &[&"x"])
        );
        assert_eq!(parse_dims("256,,3", 1000).unwrap_err().code, "empty_width");
        assert_eq!(parse_dims("0", 10).unwrap_err().code, "too_small");
        assert_eq!(parse_dims("-3", 10).unwrap_err().code, "too_small");
        assert_eq!(parse_dims("11", 10).unwrap_err().code, "too_large");
    }

    #[test]
    fn counts_rates_and_seeds() {
        assert_eq!(parse_count(" 64 ", 1, 100), Ok(64));
        assert_eq!(parse_count("", 1, 100).unwrap_err().code, "required");
        assert_eq!(parse_count("1.5", 1, 100).unwrap_err().code, "not_integer");
        assert_eq!(parse_positive("0.01", 10.0), Ok(0.01));
        for bad in ["0", "-1", "abc", "NaN", "inf", ""] {
            assert!(parse_positive(bad, 10.0).is_err(), "{bad}");
        }
        assert_eq!(parse_seed("42"), Ok(42));
        assert!(parse_seed("-1").is_err());
        let huge = "99999999999999999999";
        assert_eq!(parse_seed(huge), Err(Problem::new("too_large", &[&huge, &u32::MAX])));
        assert_eq!(
            parse_count("-99999999999999999999", 1, 9).unwrap_err().code,
            "too_small"
        );
    }
}
