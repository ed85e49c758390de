//! The wasm boundary: the only `#[wasm_bindgen]` code. It converts the page's JS values to
//! Rust calls and Rust's answers to plain JS objects; the rules live in
//! [`session`](crate::session), [`form`](crate::form) and [`schema`](crate::schema).

mod check;
mod lab;
mod schema;
mod shape;
mod turn;

use crate::problem::FieldError;
use crate::schema::Values;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::intern;
use wasm_bindgen::prelude::*;

/// Installs the panic hook: the message goes to the console and, as a `wasm-panic`
/// event, to the page, which shows it instead of going blank.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&JsValue::from_str(&info.to_string()));
        if let Some(window) = web_sys::window() {
            if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("wasm-panic", &init) {
                let _ = window.dispatch_event(&event);
            }
        }
    }));
}

/// Panics on purpose, so the end-to-end test can see the page report a panic.
#[wasm_bindgen]
pub fn panic_for_test() {
    panic!("a test asked for a panic");
}

/// `null` when a file of `bytes` bytes may be read, else the problem (before reading it).
#[wasm_bindgen]
pub fn check_file_size(bytes: f64) -> JsValue {
    crate::files::tensors::check_file_size(bytes)
        .map_or_else(|p| problem(&FieldError::new("weights", p)), |()| JsValue::NULL)
}

/// A form's fields, by the schema's names, from a JS object of strings; a missing one is
/// empty.
fn values_of(fields: &JsValue, names: &[&'static str]) -> Values {
    let text = |name: &str| Reflect::get(fields, &name.into()).ok().and_then(|v| v.as_string());
    names
        .iter()
        .map(|&name| (name, text(name).unwrap_or_default()))
        .collect()
}

/// A plain JS object from key/value pairs.
fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in entries {
        // Interned: the same few keys go out with every batch, decoded once.
        Reflect::set(&obj, &JsValue::from_str(intern(key)), value).expect("setting a key on a fresh object");
    }
    obj.into()
}

fn strings<S: ToString>(items: &[S]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(&s.to_string()))
        .collect::<Array>()
        .into()
}

/// `{ok: false, field, code, args}`: a refusal the page shows beside its field.
fn problem(error: &FieldError) -> JsValue {
    object(&[
        ("ok", false.into()),
        ("field", error.field.into()),
        ("code", error.problem.code.into()),
        ("args", strings(&error.problem.args)),
    ])
}

fn ok() -> JsValue {
    object(&[("ok", true.into())])
}

/// An answer or its refusal, as the page reads them.
fn answer<T>(result: Result<T, FieldError>, shape: impl FnOnce(T) -> JsValue) -> JsValue {
    result.map_or_else(|e| problem(&e), shape)
}
