//! The wasm boundary: the only file with `#[wasm_bindgen]`. It turns the page's strings
//! into Rust calls and Rust results into plain JS objects; no logic of its own.

use crate::fields::Problem;
use crate::gradcheck::{self, CaseError, CheckReport};
use crate::loss::LossKind;
use js_sys::{Array, Object, Reflect};
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

/// A plain JS object from key/value pairs.
fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in entries {
        Reflect::set(&obj, &JsValue::from_str(key), value)
            .expect("setting a key on a fresh object");
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

fn problem(field: &str, p: &Problem) -> JsValue {
    object(&[
        ("ok", false.into()),
        ("field", field.into()),
        ("code", p.code.into()),
        ("args", strings(&p.args)),
    ])
}

fn report_to_js(report: &CheckReport) -> JsValue {
    let rows: Array = report
        .rows
        .iter()
        .map(|row| {
            object(&[
                ("name", row.name.as_str().into()),
                ("shape", strings(&row.shape)),
                ("gradShape", strings(&row.grad_shape)),
                ("errorNorm", row.error_norm.into()),
                ("maxRelError", row.max_rel_error.into()),
                ("passed", row.passed.into()),
            ])
        })
        .collect();
    object(&[
        ("ok", true.into()),
        ("loss", report.loss.into()),
        ("outputError", report.output_error.into()),
        ("outputPassed", report.output_passed.into()),
        ("tolerance", gradcheck::TOLERANCE.into()),
        ("rows", rows.into()),
    ])
}

/// Run the gradient check from the page's fields. `batch` empty: one 1-D sample.
/// Returns `{ok: true, rows, ...}` or `{ok: false, field, code, args}`.
#[wasm_bindgen]
pub fn gradient_check(
    input_dim: &str,
    hidden_dims: &str,
    output_dim: &str,
    loss: &str,
    batch: &str,
    seed: &str,
) -> JsValue {
    let Some(loss) = LossKind::parse(loss) else {
        return problem("loss", &Problem::new("unknown_loss", &[&loss]));
    };
    match gradcheck::parse_case(input_dim, hidden_dims, output_dim, loss, batch, seed)
        .and_then(|case| gradcheck::run(&case))
    {
        Ok(report) => report_to_js(&report),
        Err(CaseError { field, problem: p }) => problem(field.id(), &p),
    }
}
