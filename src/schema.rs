//! The page's choices, said once: the fields of both forms (name, default, range, which
//! choice shows them), their options, and the presets. The page builds its `<option>`s,
//! defaults, hidden fields, URL keys and run names from [`Schema::page`]; [`form`](crate::form)
//! parses what comes back by the same names.

use crate::check::gradcheck::{CheckCase, MAX_BATCH, MAX_DIM};
use crate::model::activation::Activation;
use crate::model::bug::Bug;
use crate::model::loss::LossKind;
use crate::model::optim::OptimizerKind;
use crate::train::TrainConfig;
use std::collections::BTreeMap;

/// Which of the page's two forms a field is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormKind {
    Train,
    Check,
}

/// What a field's text must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Count { min: usize, max: usize },
    /// Layer widths, each in `1..=max_width`; empty for none.
    Dims { max_width: usize },
    /// A number above 0, at most `max`.
    Positive { max: f64 },
    /// A number from 0, below 1 (or up to 1 itself when `one_allowed`).
    Fraction { one_allowed: bool },
    /// One of the field's [`Choice`]s.
    Choice,
}

/// One option of a choice field. `label` is shown as it is; where `i18n` is set the page
/// shows that string key's text instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub i18n: Option<String>,
}

/// A form field: its name (also its URL key), what it holds, its default, and the
/// choice of another field that shows it (always shown when `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub form: FormKind,
    pub kind: Kind,
    /// Empty text is allowed and means the default behaviour (all images, no decay).
    pub optional: bool,
    pub default: String,
    pub choices: Vec<Choice>,
    /// Shown (and read) only when the field `.0` has one of the values `.1`.
    pub shown_when: Option<(&'static str, Vec<&'static str>)>,
}

/// A named set of training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub config: TrainConfig,
}

/// The training form's field names, in the form's order.
pub const TRAIN_FIELDS: [&str; 13] = [
    "hidden",
    "act",
    "opt",
    "lr",
    "momentum",
    "beta1",
    "beta2",
    "wd",
    "batch",
    "epochs",
    "seed",
    "train_limit",
    "bug",
];

/// The gradient-check form's field names, in the form's order.
pub const CHECK_FIELDS: [&str; 9] = [
    "input_dim",
    "hidden_dims",
    "act",
    "output_dim",
    "loss",
    "sample_kind",
    "batch",
    "seed",
    "bug",
];

/// The check form's batch size until the student picks one.
const CHECK_BATCH: usize = 8;
pub const MAX_TRAIN_BATCH: usize = 4096;
pub const MAX_EPOCHS: usize = 1000;
pub const MAX_TRAIN_LIMIT: usize = 60_000;
pub const MAX_WIDTH: usize = 4096;
pub const MAX_LEARNING_RATE: f64 = 100.0;

/// A field's settings as the form's text, by name.
pub type Values = BTreeMap<&'static str, String>;

/// Every choice the page offers, and the presets.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub fields: Vec<Field>,
    pub presets: Vec<Preset>,
}

impl Schema {
    /// The page's schema: its defaults are the notebook's (Part 2 for training, Part 1
    /// for the check).
    pub fn page() -> Self {
        let train = config_values(&TrainConfig::assignment());
        let check = case_values(&CheckCase::notebook_part1());
        let fields = TRAIN_FIELDS
            .iter()
            .map(|name| field(FormKind::Train, name, &train[name]))
            .chain(
                CHECK_FIELDS
                    .iter()
                    .map(|name| field(FormKind::Check, name, &check[name])),
            )
            .collect();
        Schema {
            fields,
            presets: presets(),
        }
    }

    /// A form's field, by name.
    pub fn field(&self, form: FormKind, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.form == form && f.name == name)
    }

    /// A form's defaults, by name.
    pub fn defaults(&self, form: FormKind) -> Values {
        let fields = self.fields.iter().filter(|f| f.form == form);
        fields.map(|f| (f.name, f.default.clone())).collect()
    }
}

/// The presets, in the order the page lists them.
pub fn presets() -> Vec<Preset> {
    let preset = |name, config| Preset { name, config };
    vec![
        preset("assignment", TrainConfig::assignment()),
        preset("fast", TrainConfig::fast()),
        preset("deep_sigmoid", TrainConfig::deep_sigmoid()),
        preset("relu_adam", TrainConfig::relu_adam()),
    ]
}

fn field(form: FormKind, name: &'static str, default: &str) -> Field {
    let (kind, choices, shown_when) = describe(form, name);
    Field {
        name,
        form,
        kind,
        optional: matches!(name, "train_limit" | "wd" | "bug"),
        default: default.to_string(),
        choices,
        shown_when,
    }
}

type Description = (Kind, Vec<Choice>, Option<(&'static str, Vec<&'static str>)>);

fn describe(form: FormKind, name: &str) -> Description {
    let none = |kind| (kind, Vec::new(), None);
    let choice = |choices| (Kind::Choice, choices, None);
    match (form, name) {
        (FormKind::Train, "hidden") => none(Kind::Dims { max_width: MAX_WIDTH }),
        (FormKind::Train, "lr") => none(Kind::Positive { max: MAX_LEARNING_RATE }),
        (FormKind::Train, "momentum") => (
            Kind::Fraction { one_allowed: false },
            Vec::new(),
            Some(("opt", optimizers_reading("momentum"))),
        ),
        (FormKind::Train, "beta1" | "beta2") => (
            Kind::Fraction { one_allowed: false },
            Vec::new(),
            Some(("opt", optimizers_reading(name))),
        ),
        (FormKind::Train, "wd") => none(Kind::Fraction { one_allowed: true }),
        (FormKind::Train, "batch") => none(Kind::Count {
            min: 1,
            max: MAX_TRAIN_BATCH,
        }),
        (FormKind::Train, "epochs") => none(Kind::Count {
            min: 1,
            max: MAX_EPOCHS,
        }),
        (FormKind::Train, "train_limit") => none(Kind::Count {
            min: 1,
            max: MAX_TRAIN_LIMIT,
        }),
        (_, "seed") => none(Kind::Count {
            min: 0,
            max: u32::MAX as usize,
        }),
        (_, "act") => choice(activations()),
        (_, "bug") => choice(bugs()),
        (FormKind::Train, "opt") => choice(optimizers()),
        (FormKind::Check, "input_dim" | "output_dim") => none(Kind::Count { min: 1, max: MAX_DIM }),
        (FormKind::Check, "hidden_dims") => none(Kind::Dims { max_width: MAX_DIM }),
        (FormKind::Check, "loss") => choice(losses()),
        (FormKind::Check, "sample_kind") => choice(vec![
            translated("single", "one 1-D sample", "gc_single"),
            translated("batch", "a batch", "gc_batch"),
        ]),
        (FormKind::Check, "batch") => (
            Kind::Count { min: 1, max: MAX_BATCH },
            Vec::new(),
            Some(("sample_kind", vec!["batch"])),
        ),
        // Not a field of that form: a choice without choices, which the tests catch.
        _ => choice(Vec::new()),
    }
}

fn translated(value: &'static str, label: &'static str, key: &str) -> Choice {
    Choice {
        value,
        label,
        i18n: Some(key.to_string()),
    }
}

fn activations() -> Vec<Choice> {
    let label = |a| match a {
        Activation::Sigmoid => "sigmoid",
        Activation::Relu => "ReLU",
        Activation::Tanh => "tanh",
    };
    Activation::ALL
        .into_iter()
        .map(|a| Choice {
            value: a.name(),
            label: label(a),
            i18n: None,
        })
        .collect()
}

fn optimizers() -> Vec<Choice> {
    OptimizerKind::ALL
        .into_iter()
        .map(|kind| match kind {
            OptimizerKind::Adam { .. } => Choice {
                value: kind.name(),
                label: "Adam",
                i18n: None,
            },
            kind => translated(kind.name(), kind.name(), &format!("opt_{}", kind.name())),
        })
        .collect()
}

/// The optimisers that read `field` (`momentum`, `beta1`, `beta2`).
fn optimizers_reading(field: &str) -> Vec<&'static str> {
    OptimizerKind::ALL
        .into_iter()
        .filter(|kind| kind.reads(field))
        .map(OptimizerKind::name)
        .collect()
}

fn losses() -> Vec<Choice> {
    [
        (LossKind::Mse, "MSE", "loss_mse"),
        (LossKind::CrossEntropy, "cross-entropy", "loss_ce"),
    ]
    .into_iter()
    .map(|(loss, label, key)| translated(loss.code(), label, key))
    .collect()
}

fn bugs() -> Vec<Choice> {
    let choice = |bug: Bug| translated(bug.code(), bug.code(), &format!("bug_{}_name", bug.code()));
    Bug::ALL.into_iter().map(choice).collect()
}

/// The value of the choice `text` names in the field `name` of `form`: its value or its
/// label, in any case ("ReLU", "relu" and "RELU" are all `relu`).
pub fn choice_value(form: FormKind, name: &str, text: &str) -> Option<&'static str> {
    let (_, choices, _) = describe(form, name);
    let text = text.trim();
    let named = |c: &Choice| c.value.eq_ignore_ascii_case(text) || c.label.eq_ignore_ascii_case(text);
    choices.iter().find(|c| named(c)).map(|c| c.value)
}

/// A run's settings as the training form's text, by name (a preset's, or the defaults).
/// `train_limit` is empty for all images, `bug` empty for none.
pub fn config_values(config: &TrainConfig) -> Values {
    let hidden: Vec<String> = config.hidden_dims.iter().map(usize::to_string).collect();
    let mut values = Values::from([
        ("hidden", hidden.join(",")),
        ("act", config.activation.name().to_string()),
        ("lr", config.learning_rate.to_string()),
        ("wd", config.weight_decay.to_string()),
        ("batch", config.batch_size.to_string()),
        ("epochs", config.epochs.to_string()),
        ("seed", config.seed.to_string()),
        (
            "train_limit",
            config.train_limit.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("bug", String::new()),
    ]);
    values.extend(config.optimizer.fields());
    if config.bug != Bug::None {
        values.insert("bug", config.bug.code().to_string());
    }
    values
}

/// A check case as the check form's text, by name; one sample shows the form's default
/// batch size, for when the student picks a batch.
pub fn case_values(case: &CheckCase) -> Values {
    let hidden: Vec<String> = case.hidden_dims.iter().map(usize::to_string).collect();
    Values::from([
        ("input_dim", case.input_dim.to_string()),
        ("hidden_dims", hidden.join(",")),
        ("act", case.activation.name().to_string()),
        ("output_dim", case.output_dim.to_string()),
        ("loss", case.loss.code().to_string()),
        (
            "sample_kind",
            if case.batch.is_some() { "batch" } else { "single" }.to_string(),
        ),
        ("batch", case.batch.unwrap_or(CHECK_BATCH).to_string()),
        ("seed", case.seed.to_string()),
        ("bug", Bug::None.code().to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_default_and_choices_hold_their_default() {
        let schema = Schema::page();
        assert_eq!(schema.fields.len(), TRAIN_FIELDS.len() + CHECK_FIELDS.len());
        for field in &schema.fields {
            if field.kind == Kind::Choice {
                assert!(!field.choices.is_empty(), "{}", field.name);
                let allowed = field.optional && field.default.is_empty();
                let listed = field.choices.iter().any(|c| c.value == field.default);
                assert!(allowed || listed, "{} defaults to {:?}", field.name, field.default);
            } else {
                assert!(field.choices.is_empty(), "{}", field.name);
            }
        }
        let train = schema.defaults(FormKind::Train);
        assert_eq!(train["hidden"], "256");
        assert_eq!(train["lr"], "0.01");
        assert_eq!(train["momentum"], "0.9");
        assert_eq!(train["beta2"], "0.999");
        assert_eq!(train["train_limit"], "");
        let check = schema.defaults(FormKind::Check);
        assert_eq!(check["hidden_dims"], "16,4");
        assert_eq!(
            (check["sample_kind"].as_str(), check["batch"].as_str()),
            ("single", "8")
        );
    }

    #[test]
    fn a_choice_is_named_by_its_value_or_its_label_in_any_case() {
        let act = |text| choice_value(FormKind::Train, "act", text);
        assert_eq!(
            (act("ReLU"), act("relu"), act(" TANH ")),
            (Some("relu"), Some("relu"), Some("tanh"))
        );
        assert_eq!(act("swish"), None);
        assert_eq!(choice_value(FormKind::Train, "opt", "Adam"), Some("adam"));
        assert_eq!(
            choice_value(FormKind::Check, "loss", "Cross-Entropy"),
            Some("cross_entropy")
        );
        assert_eq!(choice_value(FormKind::Train, "lr", "0.1"), None, "not a choice field");
    }

    #[test]
    fn each_optimiser_field_is_shown_for_the_optimisers_that_read_it() {
        let schema = Schema::page();
        let shown = |name| schema.field(FormKind::Train, name).and_then(|f| f.shown_when.clone());
        assert_eq!(shown("momentum"), Some(("opt", vec!["momentum", "nesterov"])));
        assert_eq!(shown("beta1"), Some(("opt", vec!["adam"])));
        assert_eq!(shown("beta2"), Some(("opt", vec!["adam"])));
        assert_eq!(shown("lr"), None);
        let batch = schema
            .field(FormKind::Check, "batch")
            .and_then(|f| f.shown_when.clone());
        assert_eq!(batch, Some(("sample_kind", vec!["batch"])));
    }

    #[test]
    fn every_bug_activation_and_optimiser_is_offered() {
        let schema = Schema::page();
        let values = |form, name| -> Vec<&str> {
            let field = schema.field(form, name).expect("a field");
            field.choices.iter().map(|c| c.value).collect()
        };
        assert_eq!(values(FormKind::Check, "bug").len(), Bug::ALL.len());
        assert_eq!(values(FormKind::Train, "act"), ["sigmoid", "relu", "tanh"]);
        assert_eq!(values(FormKind::Train, "opt"), ["sgd", "momentum", "nesterov", "adam"]);
        assert_eq!(values(FormKind::Check, "loss"), ["mse", "cross_entropy"]);
        let names: Vec<&str> = schema.presets.iter().map(|p| p.name).collect();
        assert_eq!(names, ["assignment", "fast", "deep_sigmoid", "relu_adam"]);
    }
}
