//! How the training loop and the gradient check give the browser a turn between steps.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A plain task, queued behind whatever else is waiting (clicks, timers, fetches):
/// `scheduler.postTask` where the browser has it (Chromium; cheaper than a channel, which
/// serialises a message and dispatches an event per batch), else a `MessageChannel`
/// round trip (Safari). Not `setTimeout(0)`, which is clamped to 4 ms, and not
/// `scheduler.yield()`, whose continuation jumps ahead of other tasks and starves the
/// page's timers. One per run: a channel per batch costs a tenth of the step.
#[derive(Debug)]
pub(super) enum Turn {
    PostTask { scheduler: JsValue, post_task: Function },
    Channel(web_sys::MessageChannel),
}

impl Turn {
    pub(super) fn new() -> Result<Turn, JsValue> {
        let scheduler = Reflect::get(&js_sys::global(), &"scheduler".into())?;
        if scheduler.is_object() {
            if let Ok(post_task) = Reflect::get(&scheduler, &"postTask".into())?.dyn_into::<Function>() {
                return Ok(Turn::PostTask { scheduler, post_task });
            }
        }
        Ok(Turn::Channel(web_sys::MessageChannel::new()?))
    }

    pub(super) async fn take(&self) -> Result<(), JsValue> {
        let mut failed = Ok(());
        let turn = Promise::new(&mut |resolve, _reject| {
            failed = match self {
                Turn::PostTask { scheduler, post_task } => post_task.call1(scheduler, &resolve).map(drop),
                Turn::Channel(channel) => {
                    channel.port1().set_onmessage(Some(&resolve));
                    channel.port2().post_message(&JsValue::NULL)
                }
            };
        });
        failed?;
        JsFuture::from(turn).await?;
        Ok(())
    }
}

/// Milliseconds from the page's clock.
pub(super) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}
