//! What the page's two forms send, parsed and checked in Rust so `cargo test` covers it:
//! the training form into a [`TrainConfig`], the gradient-check form into a
//! [`CheckCase`]. A refusal is a [`FieldError`] naming the field; `web` only passes
//! strings in and results out.

use crate::check::gradcheck::{self, CheckCase, MAX_BATCH, MAX_DIM};
use crate::files::mnist::{CLASSES, IMAGE_PIXELS};
use crate::model::activation::Activation;
use crate::model::bug::Bug;
use crate::model::loss::LossKind;
use crate::model::mlp::{parameter_count, MAX_LAYERS, MAX_PARAMETERS};
use crate::model::optim::OptimizerKind;
use crate::problem::{FieldError, Problem};
use crate::schema::{self, FormKind, Values};
use crate::train::TrainConfig;
use std::num::IntErrorKind;

/// The text of field `name`; a field the page did not send is empty.
fn text<'a>(values: &'a Values, name: &str) -> &'a str {
    values.get(name).map_or("", String::as_str)
}

/// The training form (fields named as in [`schema::TRAIN_FIELDS`]) as a run's settings;
/// a refusal names its field.
pub fn train_config(values: &Values) -> Result<TrainConfig, FieldError> {
    let on = |field| move |problem| FieldError::new(field, problem);
    let field = |name| text(values, name);
    let hidden_dims = parse_dims(field("hidden"), schema::MAX_WIDTH).map_err(on("hidden"))?;
    let parameters = parameter_count(IMAGE_PIXELS, &hidden_dims, CLASSES);
    if parameters > MAX_PARAMETERS {
        let problem = Problem::new("too_many_parameters", &[&parameters, &MAX_PARAMETERS]);
        return Err(FieldError::new("hidden", problem));
    }
    let batch_size = parse_count(field("batch"), 1, schema::MAX_TRAIN_BATCH).map_err(on("batch"))?;
    if batch_size * parameters > MAX_STEP_WORK {
        let problem = Problem::new(
            "batch_too_costly",
            &[&batch_size, &parameters, &(batch_size * parameters), &MAX_STEP_WORK],
        );
        return Err(FieldError::new("batch", problem));
    }
    Ok(TrainConfig {
        hidden_dims,
        learning_rate: parse_positive(field("lr"), schema::MAX_LEARNING_RATE).map_err(on("lr"))?,
        batch_size,
        epochs: parse_count(field("epochs"), 1, schema::MAX_EPOCHS).map_err(on("epochs"))?,
        seed: parse_seed(field("seed")).map_err(on("seed"))?,
        train_limit: match field("train_limit").trim() {
            "" => None,
            text => Some(parse_count(text, 1, schema::MAX_TRAIN_LIMIT).map_err(on("train_limit"))?),
        },
        bug: parse_bug(field("bug")).map_err(on("bug"))?,
        activation: parse_activation(field("act")).map_err(on("act"))?,
        optimizer: parse_optimizer(values)?,
        weight_decay: match field("wd").trim() {
            "" => 0.0,
            text => parse_fraction(text, true).map_err(on("wd"))?,
        },
    })
}

/// Every refusal in the training form at once, each under its own field (a link with
/// several bad values is reported whole at load), in the order they were found.
pub fn train_problems(values: &Values) -> Vec<FieldError> {
    let defaults = schema::Schema::page().defaults(FormKind::Train);
    let mut values = values.clone();
    let mut found: Vec<FieldError> = Vec::new();
    while let Err(error) = train_config(&values) {
        if found.iter().any(|f| f.field == error.field) {
            break;
        }
        values.insert(error.field, defaults.get(error.field).cloned().unwrap_or_default());
        found.push(error);
    }
    found
}

/// The value of a choice field, named by its value or its label in any case; `empty`
/// when nothing is typed; else what was typed, cut short, for the refusal to quote.
fn choice(form: FormKind, name: &str, text: &str, empty: &'static str) -> Result<&'static str, String> {
    match text.trim() {
        "" => Ok(empty),
        text => schema::choice_value(form, name, text).ok_or_else(|| echo(text)),
    }
}

/// The hidden activation: `sigmoid` (or empty), `relu` or `tanh`, or their labels.
pub fn parse_activation(name: &str) -> Result<Activation, Problem> {
    let value = choice(FormKind::Train, "act", name, "sigmoid")
        .map_err(|typed| Problem::new("unknown_activation", &[&typed]))?;
    Ok(Activation::from_name(value).unwrap_or_default())
}

/// The optimiser and the fields it reads: `momentum` for `momentum` and `nesterov`,
/// `beta1` and `beta2` for `adam` (with PyTorch's eps, 1e-8).
fn parse_optimizer(values: &Values) -> Result<OptimizerKind, FieldError> {
    let on = |field| move |problem| FieldError::new(field, problem);
    let momentum = || {
        let typed = text(values, "momentum");
        let momentum = parse_fraction(typed, false).map_err(on("momentum"))?;
        match momentum > 0.0 {
            true => Ok(momentum),
            false => Err(FieldError::new(
                "momentum",
                Problem::new("not_positive", &[&echo(typed)]),
            )),
        }
    };
    let name = choice(FormKind::Train, "opt", text(values, "opt"), "sgd")
        .map_err(|typed| FieldError::new("opt", Problem::new("unknown_optimizer", &[&typed])))?;
    Ok(match name {
        "momentum" => OptimizerKind::Sgd {
            momentum: momentum()?,
            nesterov: false,
        },
        "nesterov" => OptimizerKind::Sgd {
            momentum: momentum()?,
            nesterov: true,
        },
        "adam" => OptimizerKind::Adam {
            beta1: parse_fraction(text(values, "beta1"), false).map_err(on("beta1"))?,
            beta2: parse_fraction(text(values, "beta2"), false).map_err(on("beta2"))?,
            eps: 1e-8,
        },
        _ => OptimizerKind::PLAIN_SGD,
    })
}

/// A "break the backward" choice: a [`Bug`] code, empty meaning none.
pub fn parse_bug(code: &str) -> Result<Bug, Problem> {
    let value = choice(FormKind::Train, "bug", code, "none").map_err(|typed| Problem::new("unknown_bug", &[&typed]))?;
    Ok(Bug::from_code(value).unwrap_or_default())
}

/// A test image's index, `0..count`, as the step panel's field gives it.
pub fn test_index(text: &str, count: usize) -> Result<usize, FieldError> {
    parse_count(text, 0, count.saturating_sub(1)).map_err(|problem| FieldError::new("step", problem))
}

/// The learning rate field alone, for the one-sample SGD step of "Inside one step".
pub fn learning_rate(text: &str) -> Result<f64, FieldError> {
    parse_positive(text, schema::MAX_LEARNING_RATE).map_err(|problem| FieldError::new("lr", problem))
}

/// The step panel's bug and learning rate, each refused under its own name.
pub fn step_settings(bug: &str, lr: &str) -> Result<(Bug, f64), FieldError> {
    let rate = learning_rate(lr)?;
    Ok((parse_bug(bug).map_err(|p| FieldError::new("bug", p))?, rate))
}

/// The gradient-check form (fields named as in [`schema::CHECK_FIELDS`], but for `bug`)
/// as a case; a refusal names its field. A batch must be given when `sample_kind` is
/// `batch`.
pub fn check_case(values: &Values) -> Result<CheckCase, FieldError> {
    let on = |field| move |problem| FieldError::new(field, problem);
    let field = |name| text(values, name);
    let unknown_loss = |typed: String| FieldError::new("loss", Problem::new("unknown_loss", &[&typed]));
    let loss = match choice(FormKind::Check, "loss", field("loss"), "").map_err(unknown_loss)? {
        "mse" => LossKind::Mse,
        "cross_entropy" => LossKind::CrossEntropy,
        _ => return Err(unknown_loss(String::new())),
    };
    let batched = schema::choice_value(FormKind::Check, "sample_kind", field("sample_kind")) == Some("batch");
    let case = CheckCase {
        input_dim: parse_count(field("input_dim"), 1, MAX_DIM).map_err(on("input_dim"))?,
        hidden_dims: parse_dims(field("hidden_dims"), MAX_DIM).map_err(on("hidden_dims"))?,
        output_dim: parse_count(field("output_dim"), 1, MAX_DIM).map_err(on("output_dim"))?,
        loss,
        batch: match batched {
            true => Some(parse_count(field("batch"), 1, MAX_BATCH).map_err(on("batch"))?),
            false => None,
        },
        seed: parse_seed(field("seed")).map_err(on("seed"))?,
        activation: parse_activation(field("act")).map_err(on("act"))?,
    };
    gradcheck::validate(&case)?;
    Ok(case)
}

/// Full-width forms as ASCII (`１６` -> `16`, `０．５` -> `0.5`, `，` -> `,`), as NFKC does
/// for them: Chinese input methods type them.
fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// What the user typed, as a message quotes it: long text cut short.
fn echo(text: &str) -> String {
    const LONGEST: usize = 24;
    match text.char_indices().nth(LONGEST) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A whole number in `min..=max`, e.g. a layer width or a batch size.
fn parse_count(text: &str, min: usize, max: usize) -> Result<usize, Problem> {
    let text = &half_width(text);
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(n) if n < min as i64 => Err(Problem::new("too_small", &[&n, &min])),
        Ok(n) if n > max as i64 => Err(Problem::new("too_large", &[&n, &max])),
        Ok(n) => Ok(n as usize),
        // Whole numbers past i64 are still whole numbers: say which way they are off.
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(Problem::new("too_large", &[&echo(text), &max])),
        Err(e) if *e.kind() == IntErrorKind::NegOverflow => Err(Problem::new("too_small", &[&echo(text), &min])),
        Err(_) if text.is_empty() => Err(Problem::new("required", &[])),
        Err(_) => Err(Problem::new("not_integer", &[&echo(text)])),
    }
}

/// A comma-separated list of layer widths, e.g. `16,4`, or as the notebook writes it,
/// `[16, 4]`; empty (or `[]`) means no hidden layer.
fn parse_dims(text: &str, max_width: usize) -> Result<Vec<usize>, Problem> {
    let text = &half_width(text);
    let text = text.trim();
    let text = match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inside) => inside.trim(),
        None => text,
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > MAX_LAYERS {
        return Err(Problem::new("too_many_layers", &[&parts.len(), &MAX_LAYERS]));
    }
    parts
        .into_iter()
        .map(|part| match part.trim() {
            "" => Err(Problem::new("empty_width", &[])),
            part => parse_count(part, 1, max_width),
        })
        .collect()
}

/// The most multiply-adds one training step may take (batch x parameters): about a
/// second of the page's time, beyond which it stops answering clicks.
const MAX_STEP_WORK: usize = 1_000_000_000;

/// A number from 0 up to 1: below 1 (momentum, betas), or up to 1 itself when
/// `one_allowed` (weight decay).
fn parse_fraction(text: &str, one_allowed: bool) -> Result<f64, Problem> {
    let text = &half_width(text);
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(Problem::new("not_number", &[&echo(text)])),
        Ok(v) if v < 0.0 => Err(Problem::new("too_small", &[&echo(text), &0])),
        Ok(v) if v > 1.0 && one_allowed => Err(Problem::new("too_large", &[&echo(text), &1])),
        Ok(v) if v >= 1.0 && !one_allowed => Err(Problem::new("not_below_one", &[&echo(text)])),
        Ok(v) => Ok(v + 0.0), // -0 as 0
        Err(_) if text.is_empty() => Err(Problem::new("required", &[])),
        Err(_) => Err(Problem::new("not_number", &[&echo(text)])),
    }
}

/// A positive finite number, e.g. a learning rate, at most `max`.
fn parse_positive(text: &str, max: f64) -> Result<f64, Problem> {
    let text = &half_width(text);
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(Problem::new("not_number", &[&echo(text)])),
        Ok(v) if v <= 0.0 => Err(Problem::new("not_positive", &[&echo(text)])),
        Ok(v) if v > max => Err(Problem::new("too_large", &[&echo(text), &max])),
        Ok(v) => Ok(v),
        Err(_) if text.is_empty() => Err(Problem::new("required", &[])),
        Err(_) => Err(Problem::new("not_number", &[&echo(text)])),
    }
}

/// A random seed: any whole number from 0 to 2^32 - 1.
fn parse_seed(text: &str) -> Result<u64, Problem> {
    parse_count(text, 0, u32::MAX as usize).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The training form's defaults with some fields typed over, by name.
    fn typed(form: FormKind, fields: &[(&'static str, &str)]) -> Values {
        let mut values = schema::Schema::page().defaults(form);
        values.extend(fields.iter().map(|&(name, text)| (name, text.to_string())));
        values
    }

    fn train(hidden: &str, lr: &str, batch: &str, epochs: &str) -> Result<TrainConfig, FieldError> {
        let fields = [("hidden", hidden), ("lr", lr), ("batch", batch), ("epochs", epochs)];
        train_config(&typed(FormKind::Train, &fields))
    }

    #[test]
    fn a_bug_is_chosen_by_its_code_and_nonsense_is_refused() {
        let form = |bug| typed(FormKind::Train, &[("hidden", "8"), ("batch", "4"), ("bug", bug)]);
        assert_eq!(train_config(&form("")).unwrap().bug, Bug::None);
        assert_eq!(train_config(&form("bias_mean")).unwrap().bug, Bug::BiasMean);
        let refused = train_config(&form("<b>x</b>")).unwrap_err();
        assert_eq!((refused.field, refused.problem.code), ("bug", "unknown_bug"));
        assert_eq!(learning_rate("0.05").unwrap(), 0.05);
        assert_eq!(test_index(" ０07 ", 10_000).unwrap(), 7);
        assert_eq!(test_index("-1", 10_000).unwrap_err().problem.code, "too_small");
        assert_eq!(test_index("10000", 10_000).unwrap_err().problem.code, "too_large");
        assert_eq!(test_index("", 10_000).unwrap_err().problem.code, "required");
        assert_eq!(learning_rate("-1").unwrap_err().field, "lr");
    }

    #[test]
    fn the_training_form_names_the_field() {
        assert_eq!(train("256", "0.01", "64", "25"), Ok(TrainConfig::assignment()));
        let field = |h, lr, b, e| train(h, lr, b, e).unwrap_err().field;
        assert_eq!(field("256,,x", "0.01", "64", "1"), "hidden");
        assert_eq!(field("256", "0", "64", "1"), "lr");
        assert_eq!(field("256", "abc", "64", "1"), "lr");
        assert_eq!(field("256", "0.1", "0", "1"), "batch");
        assert_eq!(field("256", "0.1", "64", "0"), "epochs");
        let limit = typed(FormKind::Train, &[("train_limit", "60001")]);
        assert_eq!(train_config(&limit).unwrap_err().field, "train_limit");
        // 785 x 4096 + 2 x 4097 x 4096 + 4097 x 10 parameters
        let error = train("4096,4096,4096", "0.1", "64", "1").unwrap_err();
        assert_eq!((error.field, error.problem.code), ("hidden", "too_many_parameters"));
        assert_eq!(error.problem.args[0], "36818954");
        assert!(
            train("4096,4096", "0.1", "32", "1").is_ok(),
            "20 million parameters, a batch of 32"
        );
        let error = train("4096,4096", "0.1", "64", "1").unwrap_err();
        assert_eq!(
            (error.field, error.problem.code),
            ("batch", "batch_too_costly"),
            "but not 64 at a time"
        );
        assert!(
            train("256", "0.1", "4096", "1").is_ok(),
            "the notebook's net, 4096 at a time"
        );
        let deep = vec!["1"; 65].join(",");
        assert_eq!(
            train(&deep, "0.1", "1", "1").unwrap_err().problem.code,
            "too_many_layers"
        );
        assert!(train(&vec!["1"; 64].join(","), "0.1", "1", "1").is_ok());
    }

    #[test]
    fn the_check_form_names_the_field() {
        let form = |input_dim, hidden_dims, output_dim, batch: &'static str, seed| {
            let sample_kind = if batch.is_empty() { "single" } else { "batch" };
            typed(
                FormKind::Check,
                &[
                    ("input_dim", input_dim),
                    ("hidden_dims", hidden_dims),
                    ("output_dim", output_dim),
                    ("loss", "cross_entropy"),
                    ("sample_kind", sample_kind),
                    ("batch", batch),
                    ("seed", seed),
                ],
            )
        };
        let field = |f: Values| check_case(&f).unwrap_err().field;
        assert_eq!(field(form("32", "16,x", "2", "", "1")), "hidden_dims");
        assert_eq!(field(form("-4", "16", "2", "", "1")), "input_dim");
        assert_eq!(field(form("32", "16", "1", "", "1")), "output_dim");
        assert_eq!(field(form("32", "16", "2", "0", "1")), "batch");
        assert_eq!(field(form("32", "16", "2", "", "x")), "seed");
        let with = |mut values: Values, name, text: &str| {
            values.insert(name, text.to_string());
            values
        };
        assert_eq!(field(with(form("32", "16", "2", "", "1"), "loss", "hinge")), "loss");
        let part1 = schema::Schema::page().defaults(FormKind::Check);
        assert_eq!(check_case(&part1), Ok(CheckCase::notebook_part1()), "the defaults");
        let empty_batch = with(with(part1, "sample_kind", "batch"), "batch", "");
        let refused = check_case(&empty_batch).unwrap_err();
        assert_eq!(
            (refused.field, refused.problem.code),
            ("batch", "required"),
            "a batch needs its size"
        );
    }

    #[test]
    fn the_defaults_are_the_notebooks_and_each_field_is_read_by_its_name() {
        assert_eq!(
            train_config(&typed(FormKind::Train, &[])),
            Ok(TrainConfig::assignment())
        );
        for name in schema::TRAIN_FIELDS {
            let adam = typed(FormKind::Train, &[("opt", "adam"), (name, "x")]);
            let momentum = typed(FormKind::Train, &[("opt", "momentum"), (name, "x")]);
            let refused = [train_config(&adam), train_config(&momentum)];
            let named = refused.iter().filter_map(|r| r.as_ref().err()).any(|e| e.field == name);
            assert!(named, "{name}: nonsense in it is refused under its own name");
        }
        for name in schema::CHECK_FIELDS
            .into_iter()
            .filter(|&n| !matches!(n, "bug" | "sample_kind"))
        {
            let values = typed(FormKind::Check, &[("sample_kind", "batch"), (name, "x")]);
            assert_eq!(check_case(&values).unwrap_err().field, name);
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let values = typed(
            FormKind::Train,
            &[("lr", "-1"), ("act", "swish"), ("epochs", "0"), ("seed", "x")],
        );
        let found: Vec<(&str, &str)> = train_problems(&values)
            .iter()
            .map(|e| (e.field, e.problem.code))
            .collect();
        assert_eq!(
            found,
            [
                ("lr", "not_positive"),
                ("epochs", "too_small"),
                ("seed", "not_integer"),
                ("act", "unknown_activation")
            ]
        );
        assert!(train_problems(&typed(FormKind::Train, &[])).is_empty());
    }

    #[test]
    fn a_choice_may_be_named_by_its_label() {
        let typed = typed(FormKind::Train, &[("act", "ReLU"), ("opt", "Adam"), ("lr", "0.001")]);
        assert_eq!(train_config(&typed), Ok(TrainConfig::relu_adam()));
        let unknown = train_config(&self::typed(FormKind::Train, &[("act", "swish")])).unwrap_err();
        assert_eq!((unknown.field, unknown.problem.code), ("act", "unknown_activation"));
    }

    #[test]
    fn dims_accept_lists_and_refuse_garbage() {
        assert_eq!(parse_dims("16,4", 100).unwrap(), vec![16, 4]);
        assert_eq!(parse_dims(" 256 ", 1000).unwrap(), vec![256]);
        assert_eq!(parse_dims("", 10).unwrap(), Vec::<usize>::new());
        assert_eq!(
            parse_dims("[16, 4]", 100).unwrap(),
            vec![16, 4],
            "as the notebook writes it"
        );
        assert_eq!(parse_dims("[]", 100).unwrap(), Vec::<usize>::new());
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
    fn full_width_digits_are_read_and_long_echoes_cut() {
        assert_eq!(parse_dims("１６，４", 100), Ok(vec![16, 4]));
        assert_eq!(parse_positive("０．５", 10.0), Ok(0.5));
        assert_eq!(parse_count("\u{3000}６４", 1, 100), Ok(64));
        let long = "7".repeat(30) + "x";
        let refused = parse_count(&long, 1, 100).unwrap_err();
        assert_eq!(refused.args[0], format!("{}…", "7".repeat(24)));
        assert_eq!(parse_positive(&long, 1.0).unwrap_err().args[0].chars().count(), 25);
        assert_eq!(echo("短い"), "短い", "short text whole, multi-byte or not");
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
