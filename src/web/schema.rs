//! The page's choices, for the page to build its forms from.

use super::object;
use crate::schema::{config_values, Choice, Field, FormKind, Kind, Schema, Values};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

/// `{train: [field], check: [field], presets: [{name, values}]}`, each field
/// `{name, default, kind, min, max, optional, choices: [{value, label, i18n}], shownWhen:
/// {field, values} | null}` in the form's order.
#[wasm_bindgen]
pub fn schema() -> JsValue {
    let schema = Schema::page();
    let form = |kind| -> JsValue {
        let fields = schema.fields.iter().filter(|f| f.form == kind);
        fields.map(field_to_js).collect::<Array>().into()
    };
    let presets: Array = schema
        .presets
        .iter()
        .map(|p| {
            object(&[
                ("name", p.name.into()),
                ("values", values_to_js(&config_values(&p.config))),
            ])
        })
        .collect();
    object(&[
        ("train", form(FormKind::Train)),
        ("check", form(FormKind::Check)),
        ("presets", presets.into()),
    ])
}

/// Every refusal in the training form's fields at once: `[{ok: false, field, code, args}]`.
#[wasm_bindgen]
pub fn train_problems(fields: &JsValue) -> JsValue {
    let values = super::values_of(fields, &crate::schema::TRAIN_FIELDS);
    let problems: Array = crate::form::train_problems(&values)
        .iter()
        .map(super::problem)
        .collect();
    problems.into()
}

fn values_to_js(values: &Values) -> JsValue {
    let obj = Object::new();
    for (name, value) in values {
        let _ = Reflect::set(&obj, &(*name).into(), &value.as_str().into());
    }
    obj.into()
}

fn field_to_js(field: &Field) -> JsValue {
    let (kind, min, max) = match field.kind {
        Kind::Count { min, max } => ("count", JsValue::from(min as f64), JsValue::from(max as f64)),
        Kind::Dims { max_width } => ("dims", JsValue::from(1), JsValue::from(max_width as f64)),
        Kind::Positive { max } => ("positive", JsValue::from(0), JsValue::from(max)),
        Kind::Fraction { .. } => ("fraction", JsValue::from(0), JsValue::from(1)),
        Kind::Choice => ("choice", JsValue::NULL, JsValue::NULL),
    };
    let choices: Array = field.choices.iter().map(choice_to_js).collect();
    let shown_when = field.shown_when.as_ref().map_or(JsValue::NULL, |(on, values)| {
        let values: Array = values.iter().map(|&v| JsValue::from(v)).collect();
        object(&[("field", (*on).into()), ("values", values.into())])
    });
    object(&[
        ("name", field.name.into()),
        ("default", field.default.as_str().into()),
        ("kind", kind.into()),
        ("min", min),
        ("max", max),
        ("optional", field.optional.into()),
        ("choices", choices.into()),
        ("shownWhen", shown_when),
    ])
}

fn choice_to_js(choice: &Choice) -> JsValue {
    object(&[
        ("value", choice.value.into()),
        ("label", choice.label.into()),
        ("i18n", choice.i18n.as_deref().map_or(JsValue::NULL, JsValue::from)),
    ])
}
