//! The gradient check, run in small steps so the page (and any training) goes on.

use super::shape::report_to_js;
use super::turn::Turn;
use super::{object, problem, values_of};
use crate::check::gradcheck::Checker;
use crate::form;
use crate::problem::FieldError;
use crate::schema::CHECK_FIELDS;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// A gradient check from the page's fields. JS holds it until the check ends.
#[wasm_bindgen]
#[derive(Debug)]
pub struct GradientCheck {
    state: Rc<RefCell<Option<Checker>>>,
}

#[wasm_bindgen]
impl GradientCheck {
    /// From the check form's fields (named as the schema's check form); computes the
    /// hand-written gradients. Throws `{ok: false, field, code, args}` for a refused field.
    #[wasm_bindgen(constructor)]
    pub fn new(fields: &JsValue) -> Result<GradientCheck, JsValue> {
        let values = values_of(fields, &CHECK_FIELDS);
        let bug = form::parse_bug(&values["bug"]).map_err(|p| problem(&FieldError::new("bug", p)))?;
        let checker = form::check_case(&values).and_then(|case| Checker::new(&case, bug, |_| {}));
        let checker = checker.map_err(|e| problem(&e))?;
        Ok(GradientCheck {
            state: Rc::new(RefCell::new(Some(checker))),
        })
    }

    /// How many numbers the check differentiates.
    pub fn total(&self) -> u32 {
        self.state.borrow().as_ref().map_or(0, |c| c.step_total() as u32)
    }

    /// Differentiate step by step, yielding to the browser between steps and calling
    /// `on_progress({done, total})`. Resolves to the report `{ok: true, rows, ...}`, or
    /// to `"cancelled"`.
    pub fn run(&self, on_progress: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let turn = Turn::new()?;
            loop {
                let Some(progress) = state.borrow_mut().as_mut().map(Checker::step) else {
                    return Ok(JsValue::from_str("cancelled"));
                };
                let (done, total) = (progress.done as u32, progress.total as u32);
                on_progress.call1(
                    &JsValue::NULL,
                    &object(&[("done", done.into()), ("total", total.into())]),
                )?;
                if done == total {
                    break;
                }
                turn.take().await?;
            }
            let checker = state.borrow_mut().take();
            Ok(checker.map_or_else(|| JsValue::from_str("cancelled"), |c| report_to_js(&c.report())))
        })
    }

    /// Stop after the current step; `run` resolves to `"cancelled"`.
    pub fn cancel(&self) {
        self.state.borrow_mut().take();
    }
}
