//! `Lab`: the page's one training session, as JS holds it.

use super::shape::{bundle_to_js, chain_rule_to_js, confusion_to_js, lit_to_js, progress_to_js, step_view_to_js};
use super::turn::{now_ms, Turn};
use super::{answer, object, ok, problem, strings, values_of};
use crate::check::bundle;
use crate::check::inspect::inspect;
use crate::check::lesson;
use crate::form;
use crate::problem::{FieldError, Problem};
use crate::schema::{Values, TRAIN_FIELDS};
use crate::session::{Advance, ModelState, Session, Snapshot};
use crate::train::evaluate::{Evaluation, Score};
use crate::train::{EpochStats, Progress};
use crate::views::digit::{self, Drawing};
use crate::views::predict::{classify, next_misclassified};
use crate::views::units;
use js_sys::{Array, Float32Array, Float64Array, Function, Promise, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// "Check my notebook's backward": a bundle's rows, or the problem with the file.
#[wasm_bindgen]
pub fn check_bundle(bytes: &[u8]) -> JsValue {
    answer(bundle::check(bytes).map_err(|p| FieldError::new("bundle", p)), |r| {
        bundle_to_js(&r)
    })
}

fn train_values(fields: &JsValue) -> Values {
    values_of(fields, &TRAIN_FIELDS)
}

fn batches_to_js(batches: usize) -> JsValue {
    object(&[("ok", true.into()), ("batches", (batches as u32).into())])
}

/// A step of scoring the page's model: `{done, total}`, and `accuracy`, `loss` and
/// `confusion` once `done == total`.
fn scoring_to_js(scored: Result<(usize, usize, Option<Score>), FieldError>, of: Option<&Evaluation>) -> JsValue {
    let (done, total, score) = match scored {
        Ok(scored) => scored,
        Err(refused) => return problem(&refused),
    };
    let mut entries = vec![("done", JsValue::from(done as u32)), ("total", (total as u32).into())];
    if let (Some(score), Some(evaluation)) = (score, of) {
        entries.extend([
            ("accuracy", score.accuracy.into()),
            ("loss", score.loss.into()),
            ("confusion", confusion_to_js(evaluation.confusion())),
        ]);
    }
    object(&entries)
}

/// One page's training session. The state lives behind `Rc<RefCell<..>>`, borrowed only
/// inside a step, so `predict`, `pause` and `stop` work while `run` is between batches.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Lab {
    state: Rc<RefCell<Session>>,
}

#[wasm_bindgen]
impl Lab {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Lab {
        Lab::default()
    }

    /// Parse one fetched MNIST file (gzip or raw). `kind`: `train-images`,
    /// `train-labels`, `test-images` or `test-labels`; `name` is shown in errors.
    pub fn load_file(&self, kind: &str, name: &str, bytes: &[u8]) -> JsValue {
        answer(self.state.borrow_mut().load_file(kind, name, bytes), |()| ok())
    }

    /// Pair the four loaded files into the training and test sets: `{ok, train, test}`.
    pub fn finish_loading(&self, names: Vec<String>) -> JsValue {
        answer(self.state.borrow_mut().finish_loading(&names), |(train, test)| {
            object(&[
                ("ok", true.into()),
                ("train", (train as u32).into()),
                ("test", (test as u32).into()),
            ])
        })
    }

    /// A fresh model and run from the page's fields (a reset): `{ok, batches}`.
    pub fn configure(&self, fields: &JsValue) -> JsValue {
        answer(self.state.borrow_mut().configure(&train_values(fields)), batches_to_js)
    }

    /// Train until done, paused or stopped, yielding to the browser after every step and
    /// calling `on_progress(progress)` with the borrow released. Resolves to
    /// `"done"`, `"paused"`, `"stopped"` or an error object.
    pub fn run(&self, on_progress: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let turn = Turn::new()?;
            if let Err(busy) = state.borrow_mut().begin_run() {
                return Ok(problem(&busy));
            }
            let outcome = run_loop(&state, &on_progress, &turn).await;
            state.borrow_mut().end_run();
            outcome
        })
    }

    /// Ask the running loop to stop after the current step, keeping the exact state.
    pub fn pause(&self) {
        self.state.borrow_mut().pause();
    }

    /// End the run after the current step; the model stays for drawing.
    pub fn stop(&self) {
        self.state.borrow_mut().stop();
    }

    /// Forget the model (Reset); refused while the loop runs.
    pub fn reset(&self) -> JsValue {
        answer(self.state.borrow_mut().reset(), |()| ok())
    }

    /// The finished epochs as CSV (see `Trainer::csv` for the columns).
    pub fn csv(&self) -> String {
        self.state.borrow().trainer().map(|t| t.csv()).unwrap_or_default()
    }
}

/// The loop of `run`: one step a turn, the borrow released before each yield.
async fn run_loop(state: &Rc<RefCell<Session>>, on_progress: &Function, turn: &Turn) -> Result<JsValue, JsValue> {
    let mut last = now_ms();
    loop {
        let started = now_ms();
        let progress = {
            let mut session = state.borrow_mut();
            match session.advance(started - last) {
                Advance::Paused => return Ok("paused".into()),
                Advance::Stopped => return Ok("stopped".into()),
                Advance::Failed(error) => {
                    let refused = problem(&error);
                    on_progress.call1(&JsValue::NULL, &refused)?;
                    return Ok(refused);
                }
                Advance::Step(progress) => {
                    let trainer = session.trainer().expect("a step ran on this trainer");
                    (progress_to_js(&progress, trainer), progress == Progress::Finished)
                }
            }
        };
        last = started;
        on_progress.call1(&JsValue::NULL, &progress.0)?;
        if progress.1 {
            return Ok("done".into());
        }
        turn.take().await?;
    }
}

/// The model: saved, resumed, continued, loaded and exported.
#[wasm_bindgen]
impl Lab {
    /// What a reload needs to go on with this run exactly: `{epochs, batch, weights,
    /// rows, within}`, `batch` being the batches done of a paused epoch (0 at an epoch
    /// end), `rows` [`EpochStats::ROW`] numbers an epoch, `within` the numbers of
    /// `MidEpoch` (empty at an epoch end). `null` when there is nothing to go on from.
    pub fn snapshot(&self) -> JsValue {
        let Some(Snapshot {
            weights,
            history,
            within,
        }) = self.state.borrow().snapshot()
        else {
            return JsValue::NULL;
        };
        let rows: Vec<f64> = history.iter().flat_map(EpochStats::to_row).collect();
        let within: Vec<f64> = within.map(|at| at.to_numbers().to_vec()).unwrap_or_default();
        object(&[
            ("epochs", (history.len() as u32).into()),
            ("batch", within.first().map_or(0, |&b| b as u32).into()),
            ("weights", Uint8Array::from(weights.as_slice()).into()),
            ("rows", Float64Array::from(rows.as_slice()).into()),
            ("within", Float64Array::from(within.as_slice()).into()),
        ])
    }

    /// Go on with a saved run (see `snapshot`) from where it was saved, exactly as if it
    /// had never stopped: `{ok, batches, finished, elapsedS}`. Refused, with nothing
    /// changed, when the save does not fit.
    pub fn resume(&self, fields: &JsValue, saved_weights: &[u8], rows: &[f64], within: &[f64]) -> JsValue {
        let resumed = self
            .state
            .borrow_mut()
            .resume(&train_values(fields), saved_weights, rows, within);
        answer(resumed, |r| {
            object(&[
                ("ok", true.into()),
                ("batches", (r.batches as u32).into()),
                ("finished", r.finished.into()),
                ("elapsedS", r.elapsed_s.into()),
            ])
        })
    }

    /// Train on from the page's model (loaded or trained) with the form's settings:
    /// `{ok, batches}`; `hidden` and `act` must describe that model.
    pub fn continue_training(&self, fields: &JsValue) -> JsValue {
        answer(
            self.state.borrow_mut().continue_training(&train_values(fields)),
            batches_to_js,
        )
    }

    /// The page's model as a weights file for the notebook: `{ok, bytes, name}`.
    pub fn export_weights(&self) -> JsValue {
        answer(self.state.borrow().export_weights(), |(bytes, name)| {
            object(&[
                ("ok", true.into()),
                ("bytes", Uint8Array::from(bytes.as_slice()).into()),
                ("name", name.into()),
            ])
        })
    }

    /// Load a weights file (`save_file(model.state_dict(), ...)`) as the page's model:
    /// `{ok, arch, hidden, dtype, metadata: [[key, value]]}`; a refused file changes nothing.
    pub fn import_weights(&self, bytes: &[u8]) -> JsValue {
        answer(self.state.borrow_mut().import_weights(bytes), |summary| {
            let hidden: Vec<String> = summary.hidden_dims.iter().map(usize::to_string).collect();
            let metadata: Array = summary.metadata.iter().map(|(k, v)| strings(&[k, v])).collect();
            object(&[
                ("ok", true.into()),
                ("arch", summary.arch.into()),
                ("hidden", hidden.join(",").into()),
                ("dtype", summary.dtype.into()),
                ("metadata", metadata.into()),
            ])
        })
    }

    /// Score the loaded model on the next chunk of the test set: `{done, total}`, and
    /// `accuracy`, `loss` and `confusion` once `done == total`.
    pub fn evaluate_imported(&self) -> JsValue {
        let mut session = self.state.borrow_mut();
        let scored = session.score_imported();
        scoring_to_js(scored, session.evaluation())
    }

    /// Score the page's weights as they are now on the next chunk of the test set (before
    /// an export from inside an epoch, or for a run restored finished): as
    /// `evaluate_imported`.
    pub fn score_model(&self) -> JsValue {
        let mut session = self.state.borrow_mut();
        let scored = session.score_model();
        scoring_to_js(scored, session.weights_evaluation())
    }

    /// Whether an export must `score_model` first: weights from inside an epoch, not scored.
    pub fn needs_score(&self) -> bool {
        self.state.borrow().needs_score()
    }

    /// Where the page's model came from: `{state: "none" | "untrained" | "trained" |
    /// "imported", arch, activation, fileName, dtype, accuracy}` (fileName: what an export
    /// would be called; accuracy: the last evaluation's, or null).
    pub fn model_info(&self) -> JsValue {
        let session = self.state.borrow();
        let state = match session.model_state() {
            ModelState::None => return object(&[("state", "none".into())]),
            ModelState::Untrained => "untrained",
            ModelState::Trained => "trained",
            ModelState::Imported => "imported",
        };
        let arch = session.model().map(crate::files::weights::arch).unwrap_or_default();
        let activation = session.model().map_or("", |m| m.activation.name());
        object(&[
            ("state", state.into()),
            ("arch", arch.into()),
            ("activation", activation.into()),
            ("fileName", session.export_file_name().unwrap_or_default().into()),
            ("dtype", session.imported_dtype().map_or(JsValue::NULL, JsValue::from)),
            ("accuracy", session.score().map_or(JsValue::NULL, |s| s.accuracy.into())),
        ])
    }

    /// The `nth` test image of `digit`, for the drawing pad: `{index, pixels}` (784 bytes,
    /// ink high), or `null` before the data is in.
    pub fn test_image_of(&self, digit: u32, nth: u32) -> JsValue {
        let session = self.state.borrow();
        session
            .test_image_of(digit as usize, nth as usize)
            .map_or(JsValue::NULL, |(index, pixels)| {
                object(&[
                    ("index", (index as u32).into()),
                    ("pixels", Uint8Array::from(pixels).into()),
                ])
            })
    }

    /// How many test images there are (0 before the data is in).
    pub fn test_size(&self) -> u32 {
        self.state.borrow().test_set().map_or(0, |t| t.len() as u32)
    }

    /// Whether a model exists (after Start, until Reset).
    pub fn has_model(&self) -> bool {
        self.state.borrow().model().is_some()
    }
}

/// What the model does: a drawing classified, one step laid open, what it learned.
#[wasm_bindgen]
impl Lab {
    /// Classify a drawing: `rgba` is the canvas's pixels (`width` x `height`). Returns
    /// `{digit, confidence, probabilities, preview, untrained, lit}`; `digit` is `null`
    /// for an empty canvas or when no model exists yet.
    pub fn predict(&self, rgba: &[u8], width: u32, height: u32) -> JsValue {
        let input = match digit::prepare(rgba, width as usize, height as usize) {
            Drawing::Digit(input) => input,
            Drawing::Empty => return object(&[("digit", JsValue::NULL), ("empty", true.into())]),
            Drawing::TooSmall => return object(&[("digit", JsValue::NULL), ("tooSmall", true.into())]),
        };
        let preview: JsValue = Uint8Array::from(digit::preview_rgba(&input).as_slice()).into();
        let session = self.state.borrow();
        let Some(mlp) = session.model() else {
            return object(&[
                ("digit", JsValue::NULL),
                ("preview", preview),
                ("untrained", true.into()),
            ]);
        };
        let prediction = classify(mlp, &input);
        let (top, probabilities) = (
            prediction.class,
            Float32Array::from(prediction.probabilities.as_slice()),
        );
        let lit = units::lit(mlp, &input).map_or(JsValue::NULL, |lit| lit_to_js(&lit));
        object(&[
            ("digit", (top as u32).into()),
            ("confidence", prediction.probabilities[top].into()),
            ("probabilities", probabilities.into()),
            ("preview", preview),
            ("untrained", session.model_is_untrained().into()),
            ("lit", lit),
        ])
    }

    /// "Inside one step" for test image `index` with the current weights: every tensor of
    /// the forward pass, of the backward pass broken by `bug` (a code; `none` for the
    /// right one), and one SGD step of the learning rate `lr` on this image alone.
    pub fn inspect_test(&self, index: &str, bug: &str, lr: &str) -> JsValue {
        let session = self.state.borrow();
        let view = session.model_and_test("step", "step_no_model").and_then(|(mlp, test)| {
            let index = form::test_index(index, test.len())?;
            let (bug, learning_rate) = form::step_settings(bug, lr)?;
            Ok((
                inspect(mlp, &test.input::<f32>(index), test.label(index), bug, learning_rate),
                index,
            ))
        });
        answer(view, |(view, index)| step_view_to_js(&view, Some(index)))
    }

    /// "Inside one step" for the drawn digit (the canvas's `rgba`), taken to be `label`.
    pub fn inspect_drawing(&self, rgba: &[u8], width: u32, height: u32, label: u32, bug: &str, lr: &str) -> JsValue {
        let session = self.state.borrow();
        let view = session
            .model()
            .ok_or_else(|| FieldError::new("step", Problem::new("step_no_model", &[])));
        let view = view.and_then(|mlp| {
            let Drawing::Digit(x) = digit::prepare(rgba, width as usize, height as usize) else {
                return Err(FieldError::new("step", Problem::new("step_no_drawing", &[])));
            };
            let (bug, learning_rate) = form::step_settings(bug, lr)?;
            let label = (label as usize).min(mlp.output_dim() - 1);
            Ok(inspect(mlp, &x, label, bug, learning_rate))
        });
        answer(view, |view| step_view_to_js(&view, None))
    }

    /// Whether the page's model is the net the lesson's questions are written for.
    pub fn lesson_model(&self) -> JsValue {
        let session = self.state.borrow();
        let fits = session.model_and_test("lesson", "step_no_model").and_then(|(mlp, _)| {
            lesson::assignment_model(mlp)
                .map_err(|model| FieldError::new("lesson", Problem::new("lesson_other_model", &[&model])))
        });
        answer(fits, |()| ok())
    }

    /// The lesson's chain rule for one weight on test image `index` with the current
    /// weights: `which` is `output`, `first` or `blank` (see [`lesson::pick`]).
    /// `{ok, tensor, row, col, index, label, terms: [{value, factors: [{name, value}]}],
    /// sum, backward, numeric}`.
    pub fn chain_rule(&self, index: &str, which: &str) -> JsValue {
        let session = self.state.borrow();
        let rule = session
            .model_and_test("lesson", "step_no_model")
            .and_then(|(mlp, test)| {
                let index = form::test_index(index, test.len())?;
                let (x, label) = (test.input::<f32>(index), test.label(index));
                let none = || FieldError::new("lesson", Problem::new("lesson_no_weight", &[&which]));
                let weight = lesson::pick(which, &x, label).ok_or_else(none)?;
                let rule = lesson::chain_rule(mlp, &x, label, weight).ok_or_else(none)?;
                let diverged = || FieldError::new("lesson", Problem::new("lesson_not_finite", &[]));
                Ok((rule.is_finite().then_some(rule).ok_or_else(diverged)?, index, label))
            });
        answer(rule, |(rule, index, label)| chain_rule_to_js(&rule, index, label))
    }

    /// The next test image from `from` on (wrapping round) the current model gets
    /// wrong; `null` when it gets all right or no model exists.
    pub fn next_misclassified(&self, from: u32) -> JsValue {
        let session = self.state.borrow();
        let next = session.model_and_test("step", "step_no_model").ok();
        let next = next.and_then(|(mlp, test)| next_misclassified(mlp, test, from as usize));
        next.map_or(JsValue::NULL, |i| (i as u32).into())
    }

    /// The images of a confusion-matrix cell from the last evaluation, most confident
    /// first: `{total, items: [{index, confidence}], pixels}` (`pixels`: 784 bytes an item).
    pub fn gallery(&self, truth: u32, predicted: u32, offset: u32, limit: u32) -> JsValue {
        let session = self.state.borrow();
        let Some(test) = session.test_set() else {
            return problem(&FieldError::new("gallery", Problem::new("train_no_data", &[])));
        };
        let (Some(evaluation), true) = (session.evaluation(), truth < 10 && predicted < 10) else {
            return problem(&FieldError::new("gallery", Problem::new("gallery_none", &[])));
        };
        let (truth, predicted) = (truth as usize, predicted as usize);
        let (total, items) = evaluation.gallery(test, truth, predicted, offset as usize, limit as usize);
        let pixels: Vec<u8> = items.iter().flat_map(|&(i, _)| test.image(i).iter().copied()).collect();
        let list: Array = items
            .iter()
            .map(|&(i, c)| object(&[("index", (i as u32).into()), ("confidence", c.into())]))
            .collect();
        object(&[
            ("ok", true.into()),
            ("total", (total as u32).into()),
            ("items", list.into()),
            ("pixels", Uint8Array::from(pixels.as_slice()).into()),
        ])
    }

    /// The first layer's weights as 28x28 tiles: `{layer, units, values, scales}`, or
    /// `null` without a model.
    pub fn tiles(&self) -> JsValue {
        let session = self.state.borrow();
        let Some(tiles) = session.model().and_then(units::tiles) else {
            return JsValue::NULL;
        };
        object(&[
            ("layer", tiles.layer.into()),
            ("units", (tiles.units as u32).into()),
            ("values", Float32Array::from(tiles.values.as_slice()).into()),
            ("scales", Float32Array::from(tiles.scales.as_slice()).into()),
        ])
    }

    /// One unit of the first layer: `{bias, outgoing, top: [{index, activation}], pixels}`.
    pub fn unit(&self, unit: u32) -> JsValue {
        const TOP: usize = 12;
        let session = self.state.borrow();
        let Ok((mlp, test)) = session.model_and_test("unit", "step_no_model") else {
            return JsValue::NULL;
        };
        let Some(detail) = units::unit(mlp, test, unit as usize, TOP) else {
            return JsValue::NULL;
        };
        let pixels: Vec<u8> = detail
            .top_images
            .iter()
            .flat_map(|&(i, _)| test.image(i).iter().copied())
            .collect();
        let top: Array = detail
            .top_images
            .iter()
            .map(|&(i, a)| object(&[("index", (i as u32).into()), ("activation", a.into())]))
            .collect();
        let outgoing = detail
            .outgoing
            .map_or(JsValue::NULL, |o| Float32Array::from(o.as_slice()).into());
        object(&[
            ("bias", detail.bias.into()),
            ("outgoing", outgoing),
            ("top", top.into()),
            ("pixels", Uint8Array::from(pixels.as_slice()).into()),
        ])
    }

    /// For `make bench`: `batches` steps of the notebook's configuration with the optimiser
    /// `optimizer` back to back (no yields), one evaluation of the test set, and the first
    /// layer's kernel in L1: `{samplesPerS, evalSeconds, kernelGflopPerS, firstLayerFlopPerSample}`.
    pub fn benchmark(&self, batches: u32, optimizer: &str) -> JsValue {
        let session = self.state.borrow();
        let (Some(train), Some(test)) = (session.train_set(), session.test_set()) else {
            return problem(&FieldError::new("train", Problem::new("train_no_data", &[])));
        };
        let Some(config) = crate::bench::config_with_optimizer(optimizer) else {
            return problem(&FieldError::new(
                "opt",
                Problem::new("unknown_optimizer", &[&optimizer]),
            ));
        };
        let figures = crate::bench::measure_throughput(train, test, config, batches as usize, now_ms);
        object(&[
            ("samplesPerS", figures.samples_per_s.into()),
            ("evalSeconds", figures.eval_seconds.into()),
            ("kernelGflopPerS", figures.kernel_gflop_per_s.into()),
            ("firstLayerFlopPerSample", figures.first_layer_flop_per_sample.into()),
        ])
    }
}
