//! The wasm boundary: the only file with `#[wasm_bindgen]`. It passes the page's strings
//! to Rust and turns Rust's results into plain JS objects; it computes nothing itself.

use crate::check::bundle::{self, BundleReport, Hint};
use crate::check::gradcheck::{self, CheckReport, Checker};
use crate::check::inspect::{inspect, StepView, TensorView};
use crate::files::mnist::{self, Dataset};
use crate::files::weights;
use crate::form::{self, CheckForm, TrainForm};
use crate::model::bug::{Bug, ShapeCrash};
use crate::model::optim::Optimizer;
use crate::problem::{FieldError, Problem};
use crate::train::evaluate::{Confusion, Evaluation, Score};
use crate::train::{Diverged, EpochStats, GradFlow, MidEpoch, Progress, TrainConfig, Trainer};
use crate::views::digit::{self, Drawing};
use crate::views::predict::{classify, next_misclassified};
use crate::views::units;
use js_sys::{Array, Float32Array, Float64Array, Function, Object, Promise, Reflect, Uint32Array, Uint8Array};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::intern;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

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
        ("crash", report.crash.as_ref().map_or(JsValue::NULL, crash_to_js)),
    ])
}

fn crash_to_js(crash: &ShapeCrash) -> JsValue {
    object(&[
        ("gradLen", (crash.grad_len as u32).into()),
        ("inputLen", (crash.input_len as u32).into()),
        ("message", crash.pytorch_message().into()),
    ])
}

fn tensor_to_js(t: &TensorView) -> JsValue {
    object(&[
        ("name", t.name.as_str().into()),
        (
            "shape",
            t.shape
                .iter()
                .map(|&d| JsValue::from(d as u32))
                .collect::<Array>()
                .into(),
        ),
        ("values", Float64Array::from(t.values.as_slice()).into()),
        ("min", t.min.into()),
        ("max", t.max.into()),
        ("norm", t.norm.into()),
        ("equation", t.equation.as_str().into()),
        ("code", t.code.as_str().into()),
        ("broken", t.broken.into()),
    ])
}

fn step_view_to_js(view: &StepView, index: Option<usize>) -> JsValue {
    let cards = |list: &[TensorView]| -> JsValue { list.iter().map(tensor_to_js).collect::<Array>().into() };
    let sgd = view.sgd.as_ref().map_or(JsValue::NULL, |step| {
        let updates: Array = step
            .updates
            .iter()
            .map(|(name, norm)| object(&[("name", name.as_str().into()), ("norm", (*norm).into())]))
            .collect();
        object(&[
            ("learningRate", step.learning_rate.into()),
            ("lossBefore", step.loss_before.into()),
            ("lossAfter", step.loss_after.into()),
            ("updates", updates.into()),
        ])
    });
    object(&[
        ("ok", true.into()),
        ("index", index.map_or(JsValue::NULL, |i| (i as u32).into())),
        ("label", (view.label as u32).into()),
        ("predicted", (view.predicted as u32).into()),
        ("loss", view.loss.into()),
        ("forward", cards(&view.forward)),
        ("backward", cards(&view.backward)),
        ("crash", view.crash.as_ref().map_or(JsValue::NULL, crash_to_js)),
        ("sgd", sgd),
    ])
}

fn bundle_to_js(report: &BundleReport) -> JsValue {
    let rows: Array = report
        .rows
        .iter()
        .map(|row| {
            object(&[
                ("name", row.name.as_str().into()),
                ("shape", strings(&row.shape)),
                (
                    "gradShape",
                    row.grad_shape.as_ref().map_or(JsValue::NULL, |s| strings(s)),
                ),
                ("errorNorm", row.error_norm.into()),
                ("passed", row.passed.into()),
            ])
        })
        .collect();
    let (hint, hint_args): (&str, Vec<String>) = match &report.hint {
        None => ("", vec![]),
        Some(Hint::Missing) => ("bundle_hint_missing", vec![]),
        Some(Hint::Shape(name, got, want)) => (
            "bundle_hint_shape",
            vec![name.clone(), format!("{got:?}"), format!("{want:?}")],
        ),
        Some(Hint::AllZero) => ("bundle_hint_all_zero", vec![]),
        Some(Hint::SigmoidDerivative) => ("bundle_hint_sigmoid_derivative", vec![]),
        Some(Hint::BiasSum) => ("bundle_hint_bias_sum", vec![]),
        Some(Hint::LayerInput) => ("bundle_hint_layer_input", vec![]),
        Some(Hint::Scaled(f)) if (f + 1.0).abs() < 1e-6 => ("bundle_hint_sign", vec![]),
        Some(Hint::Scaled(f)) => (
            "bundle_hint_scale",
            vec![format!("{f:.4}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()],
        ),
        Some(Hint::GradOutput) => ("bundle_hint_grad_output", vec![]),
        Some(Hint::FirstWrong(name)) => ("bundle_hint_first_wrong", vec![name.clone()]),
    };
    let loss = match report.loss_kind {
        crate::model::loss::LossKind::Mse => "mse",
        crate::model::loss::LossKind::CrossEntropy => "cross_entropy",
    };
    object(&[
        ("ok", true.into()),
        ("loss", report.loss.into()),
        ("lossKind", loss.into()),
        ("dtype", report.dtype.as_str().into()),
        ("tolerance", report.tolerance.into()),
        ("barScales", report.bar_scales.into()),
        (
            "referenceError",
            report.reference_error.map_or(JsValue::NULL, JsValue::from),
        ),
        ("inputShape", strings(&report.input_shape)),
        ("hint", hint.into()),
        ("hintArgs", strings(&hint_args)),
        ("rows", rows.into()),
    ])
}

/// `null` when a file of `bytes` bytes may be read, else the problem (before reading it).
#[wasm_bindgen]
pub fn check_file_size(bytes: f64) -> JsValue {
    let limit = crate::files::tensors::MAX_FILE_BYTES;
    if bytes > limit as f64 {
        let mb = (bytes / (1024.0 * 1024.0)).ceil();
        return problem(
            "weights",
            &Problem::new("st_file_too_large", &[&mb, &(limit / 1024 / 1024)]),
        );
    }
    JsValue::NULL
}

/// "Check my notebook's backward": a bundle's rows, or the problem with the file.
#[wasm_bindgen]
pub fn check_bundle(bytes: &[u8]) -> JsValue {
    match bundle::check(bytes) {
        Ok(report) => bundle_to_js(&report),
        Err(p) => problem("bundle", &p),
    }
}

fn bug_of(code: &str) -> Result<Bug, JsValue> {
    form::parse_bug(code).map_err(|p| problem("bug", &p))
}

/// The step panel's bug and learning rate, or the refusal to show.
fn bug_and_rate(bug: &str, lr: &str) -> Result<(Bug, f64), JsValue> {
    let rate = form::learning_rate(lr).map_err(|FieldError { field, problem: p }| problem(field, &p))?;
    Ok((bug_of(bug)?, rate))
}

/// A gradient check from the page's fields, run in small steps by `run` so the page
/// (and any training) goes on meanwhile. JS holds it until the check ends.
#[wasm_bindgen]
#[derive(Debug)]
pub struct GradientCheck {
    state: Rc<RefCell<CheckState>>,
}

#[derive(Debug)]
struct CheckState {
    checker: Option<Checker>,
    cancelled: bool,
}

#[wasm_bindgen]
impl GradientCheck {
    /// Parse the fields (`sample_kind`: `sample` for one 1-D sample, `batch` for a batch
    /// of `batch`; `bug`: a "break the backward" code) and compute the hand-written gradients. Throws `{ok: false, field,
    /// code, args}` for a refused field.
    /// From the check form's fields, `{input_dim, hidden_dims, output_dim, loss,
    /// sample_kind, batch, seed, act, bug}`.
    #[wasm_bindgen(constructor)]
    pub fn new(fields: &JsValue) -> Result<GradientCheck, JsValue> {
        let names = [
            "input_dim",
            "hidden_dims",
            "output_dim",
            "loss",
            "sample_kind",
            "batch",
            "seed",
            "act",
            "bug",
        ];
        let f = fields_of(fields, names);
        let bug = bug_of(&f[8])?;
        let form = CheckForm {
            input_dim: &f[0],
            hidden_dims: &f[1],
            output_dim: &f[2],
            loss: &f[3],
            sample_kind: &f[4],
            batch: &f[5],
            seed: &f[6],
            act: &f[7],
        };
        match form::check_case(&form).and_then(|case| Checker::new(&case, bug, |_| {})) {
            Ok(checker) => Ok(GradientCheck {
                state: Rc::new(RefCell::new(CheckState {
                    checker: Some(checker),
                    cancelled: false,
                })),
            }),
            Err(FieldError { field, problem: p }) => Err(problem(field, &p)),
        }
    }

    /// How many numbers the check differentiates.
    pub fn total(&self) -> u32 {
        self.state
            .borrow()
            .checker
            .as_ref()
            .map_or(0, |c| c.step_total() as u32)
    }

    /// Differentiate step by step, yielding to the browser between steps and calling
    /// `on_progress({done, total})`. Resolves to the report `{ok: true, rows, ...}`, or
    /// to `"cancelled"`.
    pub fn run(&self, on_progress: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let turn = Turn::new()?;
            loop {
                let progress = {
                    let mut s = state.borrow_mut();
                    if s.cancelled {
                        return Ok(JsValue::from_str("cancelled"));
                    }
                    let Some(checker) = s.checker.as_mut() else {
                        return Ok(JsValue::from_str("cancelled"));
                    };
                    checker.step()
                };
                let js = object(&[
                    ("done", (progress.done as u32).into()),
                    ("total", (progress.total as u32).into()),
                ]);
                on_progress.call1(&JsValue::NULL, &js)?;
                if progress.done == progress.total {
                    break;
                }
                turn.take().await?;
            }
            let checker = state.borrow_mut().checker.take();
            Ok(checker.map_or_else(|| JsValue::from_str("cancelled"), |c| report_to_js(&c.report())))
        })
    }

    /// Stop after the current step; `run` resolves to `"cancelled"`.
    pub fn cancel(&self) {
        self.state.borrow_mut().cancelled = true;
    }
}

/// The training form's field names, as the page's `<form>` and the URL name them.
const TRAIN_FIELDS: [&str; 13] = [
    "hidden",
    "lr",
    "batch",
    "epochs",
    "seed",
    "train_limit",
    "bug",
    "act",
    "opt",
    "momentum",
    "wd",
    "beta1",
    "beta2",
];

/// A form's field values from a JS object of strings; a missing one is empty.
fn fields_of<const N: usize>(fields: &JsValue, names: [&str; N]) -> [String; N] {
    names.map(|name| {
        Reflect::get(fields, &name.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    })
}

fn train_fields(fields: &JsValue) -> [String; 13] {
    fields_of(fields, TRAIN_FIELDS)
}

fn train_form(f: &[String; 13]) -> TrainForm<'_> {
    TrainForm {
        hidden: &f[0],
        lr: &f[1],
        batch: &f[2],
        epochs: &f[3],
        seed: &f[4],
        train_limit: &f[5],
        bug: &f[6],
        act: &f[7],
        opt: &f[8],
        momentum: &f[9],
        wd: &f[10],
        beta1: &f[11],
        beta2: &f[12],
    }
}

/// A preset's settings as the training form's strings: `assignment`, `fast`,
/// `deep_sigmoid` or `relu_adam`.
#[wasm_bindgen]
pub fn preset(name: &str) -> JsValue {
    let config = match name {
        "fast" => TrainConfig::fast(),
        "deep_sigmoid" => TrainConfig::deep_sigmoid(),
        "relu_adam" => TrainConfig::relu_adam(),
        _ => TrainConfig::assignment(),
    };
    let hidden: Vec<String> = config.hidden_dims.iter().map(usize::to_string).collect();
    let fields = object(&[
        ("hidden", hidden.join(",").into()),
        ("lr", config.learning_rate.to_string().into()),
        ("batch", config.batch_size.to_string().into()),
        ("epochs", config.epochs.to_string().into()),
        ("seed", config.seed.to_string().into()),
        // Every field a preset implies: all training images.
        (
            "train_limit",
            config.train_limit.map(|n| n.to_string()).unwrap_or_default().into(),
        ),
        ("act", config.activation.name().into()),
        ("wd", config.weight_decay.to_string().into()),
    ]);
    for (name, value) in config.optimizer.fields() {
        let _ = Reflect::set(&fields, &name.into(), &value.into());
    }
    fields
}

/// One page's training session. JS holds one `Lab`; the state lives behind
/// `Rc<RefCell<..>>`, borrowed only inside a step, so `predict`, `pause` and `stop` work
/// while `run` is between batches.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Lab {
    state: Rc<RefCell<Session>>,
}

#[derive(Debug, Default)]
struct Session {
    /// Parsed files by kind (`train-images`, ...), until all four are in.
    images: [Option<Vec<u8>>; 2],
    labels: [Option<Vec<u8>>; 2],
    train: Option<Dataset>,
    test: Option<Dataset>,
    trainer: Option<Trainer>,
    running: bool,
    request: Option<Request>,
    /// The model came from a file: its story so far, and its score once evaluated.
    imported: Option<ImportedModel>,
}

#[derive(Debug)]
struct ImportedModel {
    dtype: String,
    /// The file's `__metadata__`, carried into an export of the model as it came.
    metadata: BTreeMap<String, String>,
    /// Epochs it had trained before it came in, when its metadata says.
    epochs: usize,
    evaluation: Evaluation,
    score: Option<Score>,
}

#[derive(Clone, Copy, Debug)]
enum Request {
    Pause,
    Stop,
}

fn ok() -> JsValue {
    object(&[("ok", true.into())])
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// How the training loop gives the browser a turn after each batch: a plain task, queued
/// behind whatever else is waiting (clicks, timers, fetches). `scheduler.postTask` where
/// the browser has it (Chromium; cheaper than a channel, which serialises a message and
/// dispatches an event per batch), else a `MessageChannel`
/// round trip (Safari). Not `setTimeout(0)`, which is clamped to 4 ms, and not
/// `scheduler.yield()`, whose continuation jumps ahead of other tasks and starves the
/// page's timers. One per run: a channel per batch costs a tenth of the step.
#[derive(Debug)]
enum Turn {
    PostTask { scheduler: JsValue, post_task: Function },
    Channel(web_sys::MessageChannel),
}

impl Turn {
    fn new() -> Result<Turn, JsValue> {
        let scheduler = Reflect::get(&js_sys::global(), &"scheduler".into())?;
        if scheduler.is_object() {
            if let Ok(post_task) = Reflect::get(&scheduler, &"postTask".into())?.dyn_into::<Function>() {
                return Ok(Turn::PostTask { scheduler, post_task });
            }
        }
        Ok(Turn::Channel(web_sys::MessageChannel::new()?))
    }

    async fn take(&self) -> Result<(), JsValue> {
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

fn progress_to_js(progress: &Progress, trainer: &Trainer) -> JsValue {
    let live = trainer.live();
    let common = [
        ("smoothedLoss", live.smoothed_loss.into()),
        ("samplesPerS", live.samples_per_s.into()),
        ("elapsedS", live.elapsed_s.into()),
        ("epochs", (live.epochs as u32).into()),
    ];
    let specific: Vec<(&str, JsValue)> = match progress {
        Progress::Batch {
            epoch,
            batch,
            batches,
            loss,
            flow,
        } => vec![
            ("flow", flow.as_ref().map_or(JsValue::NULL, flow_to_js)),
            ("kind", "batch".into()),
            ("x", ((epoch - 1) as f64 + *batch as f64 / *batches as f64).into()),
            ("epoch", (*epoch as u32).into()),
            ("batch", (*batch as u32).into()),
            ("batches", (*batches as u32).into()),
            ("loss", (*loss).into()),
        ],
        Progress::Evaluating { epoch, done, total } => vec![
            ("kind", "evaluating".into()),
            ("epoch", (*epoch as u32).into()),
            ("done", (*done as u32).into()),
            ("total", (*total as u32).into()),
        ],
        Progress::EpochDone(s) => vec![
            ("kind", "epoch".into()),
            ("epoch", (s.epoch as u32).into()),
            ("avgLoss", s.avg_loss.into()),
            ("testAccuracy", s.test_accuracy.into()),
            ("testLoss", s.test_loss.into()),
            ("seconds", s.seconds.into()),
            ("epochSamplesPerS", s.samples_per_s.into()),
            (
                "confusion",
                trainer
                    .evaluation()
                    .map_or(JsValue::NULL, |e| confusion_to_js(e.confusion())),
            ),
        ],
        Progress::Finished => vec![("kind", "finished".into())],
    };
    object(&[specific.as_slice(), &common].concat())
}

fn lit_to_js(lit: &units::Lit) -> JsValue {
    object(&[
        ("activations", Float32Array::from(lit.activations.as_slice()).into()),
        ("winner", (lit.winner as u32).into()),
        ("push", Float32Array::from(lit.push.as_slice()).into()),
        ("strongest", strings(&lit.strongest)),
    ])
}

fn flow_to_js(flow: &GradFlow) -> JsValue {
    object(&[
        ("x", flow.x.into()),
        ("gradNorms", Float64Array::from(flow.grad_norms.as_slice()).into()),
        ("updateRatios", Float64Array::from(flow.update_ratios.as_slice()).into()),
    ])
}

/// `{counts, shares, recall}`: the 10x10 counts row by row (`[true * 10 + predicted]`),
/// each as a share of its row, and each row's recall.
fn confusion_to_js(confusion: &Confusion) -> JsValue {
    let counts: Vec<u32> = confusion.iter().flatten().copied().collect();
    let row_totals: Vec<f64> = confusion
        .iter()
        .map(|row| row.iter().sum::<u32>().max(1) as f64)
        .collect();
    let shares: Vec<f64> = counts
        .iter()
        .enumerate()
        .map(|(k, &c)| c as f64 / row_totals[k / 10])
        .collect();
    let recall: Vec<f64> = (0..10).map(|t| shares[t * 10 + t]).collect();
    object(&[
        ("counts", Uint32Array::from(counts.as_slice()).into()),
        ("shares", Float64Array::from(shares.as_slice()).into()),
        ("recall", Float64Array::from(recall.as_slice()).into()),
    ])
}

fn diverged_to_js(d: &Diverged, bug: Bug) -> JsValue {
    let loss = d.loss.to_string();
    match bug {
        Bug::None => problem("train", &Problem::new("train_diverged", &[&d.epoch, &d.batch, &loss])),
        // The broken backward, not the learning rate, is the likelier cause.
        bug => problem(
            "train",
            &Problem::new("train_diverged_bug", &[&d.epoch, &d.batch, &loss, &bug.code()]),
        ),
    }
}

impl Session {
    /// A run's settings from the training form, and the training set's size, when a run
    /// may start now; else the refusal to show.
    fn run_settings(&self, form: &TrainForm<'_>) -> Result<(TrainConfig, usize), JsValue> {
        if self.running {
            return Err(problem("train", &Problem::new("train_busy", &[])));
        }
        let Some(train_size) = self.train.as_ref().map(Dataset::len) else {
            return Err(problem("train", &Problem::new("train_no_data", &[])));
        };
        let config = form::train_config(form).map_err(|FieldError { field, problem: p }| problem(field, &p))?;
        Ok((config, train_size))
    }

    fn file_slot(&mut self, kind: &str) -> Option<(&mut Option<Vec<u8>>, bool)> {
        match kind {
            "train-images" => Some((&mut self.images[0], true)),
            "test-images" => Some((&mut self.images[1], true)),
            "train-labels" => Some((&mut self.labels[0], false)),
            "test-labels" => Some((&mut self.labels[1], false)),
            _ => None,
        }
    }

    /// One step with the borrow held; returns what JS should see and whether to go on.
    fn step(&mut self, elapsed_ms: f64) -> (JsValue, bool) {
        let (Some(trainer), Some(train), Some(test)) = (&mut self.trainer, &self.train, &self.test) else {
            return (problem("train", &Problem::new("train_no_data", &[])), false);
        };
        match trainer.step(train, test, elapsed_ms) {
            Ok(progress) => {
                let go_on = progress != Progress::Finished;
                (progress_to_js(&progress, trainer), go_on)
            }
            Err(diverged) => (diverged_to_js(&diverged, trainer.config.bug), false),
        }
    }
}

#[wasm_bindgen]
impl Lab {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Lab {
        Lab {
            state: Rc::new(RefCell::new(Session::default())),
        }
    }

    /// Parse one fetched MNIST file (gzip or raw). `kind`: `train-images`,
    /// `train-labels`, `test-images` or `test-labels`; `name` is shown in errors.
    pub fn load_file(&self, kind: &str, name: &str, bytes: &[u8]) -> JsValue {
        let mut session = self.state.borrow_mut();
        let Some((slot, is_images)) = session.file_slot(kind) else {
            return problem("data", &Problem::new("data_unknown_kind", &[&kind]));
        };
        let parsed = if is_images {
            mnist::parse_images(name, bytes)
        } else {
            mnist::parse_labels(name, bytes)
        };
        match parsed {
            Ok(data) => {
                *slot = Some(data);
                ok()
            }
            Err(p) => problem("data", &p),
        }
    }

    /// Pair the four loaded files into the training and test sets.
    pub fn finish_loading(&self, names: Vec<String>) -> JsValue {
        let mut s = self.state.borrow_mut();
        let [Some(ti), Some(ei)] = [s.images[0].take(), s.images[1].take()] else {
            return problem("data", &Problem::new("data_missing", &[]));
        };
        let [Some(tl), Some(el)] = [s.labels[0].take(), s.labels[1].take()] else {
            return problem("data", &Problem::new("data_missing", &[]));
        };
        let name = |i: usize| names.get(i).map_or("?", String::as_str);
        let train = Dataset::new(name(0), ti, name(1), tl);
        let test = Dataset::new(name(2), ei, name(3), el);
        match (train, test) {
            (Ok(train), Ok(test)) => {
                let sizes = object(&[
                    ("ok", true.into()),
                    ("train", (train.len() as u32).into()),
                    ("test", (test.len() as u32).into()),
                ]);
                s.train = Some(train);
                s.test = Some(test);
                sizes
            }
            (Err(p), _) | (_, Err(p)) => problem("data", &p),
        }
    }

    /// A fresh model and run from the page's fields, `{hidden, lr, ...}` (a reset);
    /// refused while running.
    pub fn configure(&self, fields: &JsValue) -> JsValue {
        let mut s = self.state.borrow_mut();
        let fields = train_fields(fields);
        let form = train_form(&fields);
        let (config, train_size) = match s.run_settings(&form) {
            Ok(settings) => settings,
            Err(refused) => return refused,
        };
        s.request = None;
        s.imported = None;
        let trainer = Trainer::new(config, train_size);
        let batches = trainer.batches_per_epoch() as u32;
        s.trainer = Some(trainer);
        object(&[("ok", true.into()), ("batches", batches.into())])
    }

    /// Train until done, paused or stopped, yielding to the browser after every step and
    /// calling `on_progress(progress)` with the borrow released. Resolves to
    /// `"done"`, `"paused"`, `"stopped"` or an error object.
    pub fn run(&self, on_progress: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let turn = Turn::new()?;
            {
                let mut s = state.borrow_mut();
                if s.running {
                    return Ok(problem("train", &Problem::new("train_busy", &[])));
                }
                // A Pause or Stop asked for before this run got going is honoured below.
                s.running = true;
            }
            let mut last = now_ms();
            let outcome = loop {
                let request = state.borrow_mut().request.take();
                match request {
                    Some(Request::Pause) => break JsValue::from_str("paused"),
                    Some(Request::Stop) => {
                        if let Some(t) = state.borrow_mut().trainer.as_mut() {
                            t.stop();
                        }
                        break JsValue::from_str("stopped");
                    }
                    None => {}
                }
                let started = now_ms();
                let (progress, go_on) = state.borrow_mut().step(started - last);
                last = started;
                if let Err(e) = on_progress.call1(&JsValue::NULL, &progress) {
                    state.borrow_mut().running = false;
                    return Err(e);
                }
                if !go_on {
                    let failed = Reflect::get(&progress, &"ok".into()).is_ok_and(|v| v == false);
                    break if failed { progress } else { JsValue::from_str("done") };
                }
                if let Err(e) = turn.take().await {
                    state.borrow_mut().running = false;
                    return Err(e);
                }
            };
            let mut s = state.borrow_mut();
            s.running = false;
            s.request = None; // asked for as the run ended on its own: nothing left to pause
            Ok(outcome)
        })
    }

    /// Ask the running loop to stop after the current step, keeping the exact state.
    pub fn pause(&self) {
        self.state.borrow_mut().request = Some(Request::Pause);
    }

    /// End the run after the current step; the model stays for drawing.
    pub fn stop(&self) {
        let mut s = self.state.borrow_mut();
        if s.running {
            s.request = Some(Request::Stop);
        } else if let Some(t) = s.trainer.as_mut() {
            t.stop();
        }
    }

    /// Forget the model (Reset): the draw pad has none until the next Start. Refused
    /// while the loop runs.
    pub fn reset(&self) -> JsValue {
        let mut s = self.state.borrow_mut();
        if s.running {
            return problem("train", &Problem::new("train_busy", &[]));
        }
        s.trainer = None;
        s.request = None;
        s.imported = None;
        ok()
    }

    /// The finished epochs as CSV: `epoch,avg_loss,test_accuracy,seconds,samples_per_s`.
    pub fn csv(&self) -> String {
        self.state
            .borrow()
            .trainer
            .as_ref()
            .map(Trainer::csv)
            .unwrap_or_default()
    }

    /// Classify a drawing: `rgba` is the canvas's pixels (`width` x `height`). Returns
    /// `{digit, probabilities, preview, untrained}`; `digit` is `null` for an empty canvas
    /// or when no model exists yet. Uses the current weights, also while training runs.
    pub fn predict(&self, rgba: &[u8], width: u32, height: u32) -> JsValue {
        let input = match digit::prepare(rgba, width as usize, height as usize) {
            Drawing::Empty => return object(&[("digit", JsValue::NULL), ("empty", true.into())]),
            Drawing::TooSmall => return object(&[("digit", JsValue::NULL), ("tooSmall", true.into())]),
            Drawing::Digit(input) => input,
        };
        let preview: JsValue = Uint8Array::from(digit::preview_rgba(&input).as_slice()).into();
        let session = self.state.borrow();
        let Some(trainer) = session.trainer.as_ref() else {
            return object(&[
                ("digit", JsValue::NULL),
                ("preview", preview),
                ("untrained", true.into()),
            ]);
        };
        let prediction = classify(&trainer.mlp, &input);
        let top = prediction.class;
        object(&[
            ("digit", (top as u32).into()),
            ("confidence", prediction.probabilities[top].into()),
            (
                "probabilities",
                Float32Array::from(prediction.probabilities.as_slice()).into(),
            ),
            ("preview", preview),
            (
                "untrained",
                (trainer.is_untrained() && session.imported.is_none()).into(),
            ),
            (
                "lit",
                units::lit(&trainer.mlp, &input).map_or(JsValue::NULL, |lit| lit_to_js(&lit)),
            ),
        ])
    }

    /// How many test images there are (0 before the data is in).
    pub fn test_size(&self) -> u32 {
        self.state.borrow().test.as_ref().map_or(0, |t| t.len() as u32)
    }

    /// Whether a model exists (after Start, until Reset).
    pub fn has_model(&self) -> bool {
        self.state.borrow().trainer.is_some()
    }

    /// "Inside one step" for test image `index` with the current weights: every tensor of
    /// the forward pass, of the backward pass broken by `bug` (a code; `none` for the
    /// right one), and one SGD step of the learning rate `lr` on this image alone.
    pub fn inspect_test(&self, index: &str, bug: &str, lr: &str) -> JsValue {
        let s = self.state.borrow();
        let (Some(trainer), Some(test)) = (&s.trainer, &s.test) else {
            return problem("step", &Problem::new("step_no_model", &[]));
        };
        let index = match form::test_index(index, test.len()) {
            Ok(index) => index,
            Err(FieldError { field, problem: p }) => return problem(field, &p),
        };
        let (bug, learning_rate) = match bug_and_rate(bug, lr) {
            Ok(parsed) => parsed,
            Err(refused) => return refused,
        };
        let x = test.input::<f32>(index);
        let view = inspect(&trainer.mlp, &x, test.label(index), bug, learning_rate);
        step_view_to_js(&view, Some(index))
    }

    /// "Inside one step" for the drawn digit (the canvas's `rgba`), taken to be `label`.
    pub fn inspect_drawing(&self, rgba: &[u8], width: u32, height: u32, label: u32, bug: &str, lr: &str) -> JsValue {
        let s = self.state.borrow();
        let Some(trainer) = &s.trainer else {
            return problem("step", &Problem::new("step_no_model", &[]));
        };
        let Drawing::Digit(x) = digit::prepare(rgba, width as usize, height as usize) else {
            return problem("step", &Problem::new("step_no_drawing", &[]));
        };
        let (bug, learning_rate) = match bug_and_rate(bug, lr) {
            Ok(parsed) => parsed,
            Err(refused) => return refused,
        };
        let label = (label as usize).min(trainer.mlp.output_dim() - 1);
        step_view_to_js(&inspect(&trainer.mlp, &x, label, bug, learning_rate), None)
    }

    /// The next test image from `from` on (wrapping round) the current model gets
    /// wrong; `null` when it gets all right or no model exists.
    pub fn next_misclassified(&self, from: u32) -> JsValue {
        let s = self.state.borrow();
        match (&s.trainer, &s.test) {
            (Some(trainer), Some(test)) => {
                next_misclassified(&trainer.mlp, test, from as usize).map_or(JsValue::NULL, |i| (i as u32).into())
            }
            _ => JsValue::NULL,
        }
    }

    /// Load a weights file (`save_file(model.state_dict(), ...)`) as the page's model.
    /// Returns `{ok, arch, hidden, dtype, metadata: [[key, value]]}`; a refused file
    /// returns the problem and leaves the model and run as they were.
    pub fn import_weights(&self, bytes: &[u8]) -> JsValue {
        let mut s = self.state.borrow_mut();
        if s.running {
            return problem("weights", &Problem::new("train_busy", &[]));
        }
        let Some(train_size) = s.train.as_ref().map(Dataset::len) else {
            return problem("weights", &Problem::new("train_no_data", &[]));
        };
        let imported = match weights::import(bytes) {
            Ok(imported) => imported,
            Err(p) => return problem("weights", &p),
        };
        let hidden: Vec<String> = imported.hidden_dims.iter().map(usize::to_string).collect();
        let arch = weights::arch(&imported.mlp);
        let epochs = imported
            .metadata
            .get("epochs")
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        let metadata: Array = imported.metadata.iter().map(|(k, v)| strings(&[k, v])).collect();
        s.request = None;
        s.trainer = Some(Trainer::with_model(TrainConfig::assignment(), imported.mlp, train_size));
        s.imported = Some(ImportedModel {
            dtype: imported.dtype.clone(),
            metadata: imported.metadata.clone(),
            epochs,
            evaluation: Evaluation::default(),
            score: None,
        });
        object(&[
            ("ok", true.into()),
            ("arch", arch.into()),
            ("hidden", hidden.join(",").into()),
            ("dtype", imported.dtype.into()),
            ("metadata", metadata.into()),
        ])
    }

    /// Score the imported model on the next chunk of the test set: `{done, total}`, and
    /// `accuracy` and `loss` once `done == total`.
    pub fn evaluate_imported(&self) -> JsValue {
        let mut s = self.state.borrow_mut();
        let Session {
            trainer: Some(trainer),
            test: Some(test),
            imported: Some(imported),
            ..
        } = &mut *s
        else {
            return problem("weights", &Problem::new("weights_none", &[]));
        };
        let done = imported.evaluation.step(&trainer.mlp, test);
        let mut entries = vec![
            ("done", JsValue::from(done as u32)),
            ("total", (test.len() as u32).into()),
        ];
        if done == test.len() {
            let score = imported.evaluation.score();
            imported.score = Some(score);
            entries.extend([
                ("accuracy", score.accuracy.into()),
                ("loss", score.loss.into()),
                ("confusion", confusion_to_js(imported.evaluation.confusion())),
            ]);
        }
        object(&entries)
    }

    /// Train on from the page's model (imported or trained) with the form's settings;
    /// `hidden` must describe that model. Refused while running.
    pub fn continue_training(&self, fields: &JsValue) -> JsValue {
        let mut s = self.state.borrow_mut();
        if s.running {
            return problem("train", &Problem::new("train_busy", &[]));
        }
        let (Some(train_size), Some(current)) = (s.train.as_ref().map(Dataset::len), s.trainer.as_ref()) else {
            return problem("train", &Problem::new("weights_none", &[]));
        };
        if s.imported.as_ref().is_some_and(|i| i.score.is_none()) {
            return problem("train", &Problem::new("wt_scoring", &[]));
        }
        let fields = train_fields(fields);
        let form = TrainForm {
            bug: "",
            ..train_form(&fields)
        };
        let config = match form::train_config(&form) {
            Ok(config) => config,
            Err(FieldError { field, problem: p }) => return problem(field, &p),
        };
        let model_dims: Vec<usize> = current.mlp.layers.iter().map(|l| l.outputs()).collect();
        if config.hidden_dims != model_dims {
            let model: Vec<String> = model_dims.iter().map(usize::to_string).collect();
            return problem(
                "hidden",
                &Problem::new("hidden_contradicts_model", &[&form.hidden, &model.join(",")]),
            );
        }
        if config.activation != current.mlp.activation {
            let names = [config.activation.name(), current.mlp.activation.name()];
            return problem("act", &Problem::new("act_contradicts_model", &[&names[0], &names[1]]));
        }
        let (mlp, history) = (current.mlp.clone(), current.history.clone());
        // The same optimiser goes on with its state (at the new learning rate), as the
        // notebook's optimizer object would; another starts afresh.
        let same_optimizer =
            (config.optimizer, config.weight_decay) == (current.optimizer.kind, current.optimizer.weight_decay);
        let optimizer = Optimizer {
            learning_rate: config.learning_rate,
            ..current.optimizer.clone()
        };
        s.request = None;
        let mut trainer = Trainer::with_model(config, mlp, train_size).after(history);
        if same_optimizer {
            trainer.optimizer = optimizer;
        }
        s.trainer = Some(trainer);
        let batches = s.trainer.as_ref().map_or(0, |t| t.batches_per_epoch() as u32);
        object(&[("ok", true.into()), ("batches", batches.into())])
    }

    /// What a reload needs to go on with this run exactly: `{epochs, batch, weights,
    /// rows, within}`. Paused inside an epoch, the run as it is (`batch` of that epoch
    /// done, `within` the 5 numbers of [`MidEpoch`](crate::train::MidEpoch)); else as the
    /// last epoch ended (`batch` 0, `within` empty), also while the next one trains.
    /// `rows`: 6 numbers an epoch (epoch, avg loss, test accuracy, test loss, seconds,
    /// samples/s). `null` when there is nothing to go on from.
    pub fn snapshot(&self) -> JsValue {
        let s = self.state.borrow();
        let Some(trainer) = s.trainer.as_ref() else {
            return JsValue::NULL;
        };
        let (mlp, optimizer, within) = match (trainer.mid_epoch().filter(|_| !s.running), &trainer.epoch_end) {
            (Some(at), _) => (&trainer.mlp, &trainer.optimizer, at.to_numbers().to_vec()),
            (None, Some((mlp, optimizer))) => (mlp, optimizer, Vec::new()),
            (None, None) => return JsValue::NULL,
        };
        let Ok(weights) = weights::export_run(mlp, optimizer, &BTreeMap::new()) else {
            return JsValue::NULL;
        };
        let rows: Vec<f64> = trainer
            .history
            .iter()
            .flat_map(|e| {
                [
                    e.epoch as f64,
                    e.avg_loss,
                    e.test_accuracy,
                    e.test_loss,
                    e.seconds,
                    e.samples_per_s,
                ]
            })
            .collect();
        object(&[
            ("epochs", (trainer.history.len() as u32).into()),
            ("batch", within.first().map_or(0, |&b| b as u32).into()),
            ("weights", Uint8Array::from(weights.as_slice()).into()),
            ("rows", Float64Array::from(rows.as_slice()).into()),
            ("within", Float64Array::from(within.as_slice()).into()),
        ])
    }

    /// Go on with a saved run (see `snapshot`) from where it was saved, exactly as if it
    /// had never stopped. Refused, with nothing changed, when the save does not fit.
    pub fn resume(&self, fields: &JsValue, saved_weights: &[u8], rows: &[f64], within: &[f64]) -> JsValue {
        let mut s = self.state.borrow_mut();
        let fields = train_fields(fields);
        let (config, train_size) = match s.run_settings(&train_form(&fields)) {
            Ok(settings) => settings,
            Err(refused) => return refused,
        };
        let (mlp, optimizer) = match weights::import_run(saved_weights, config.new_optimizer()) {
            Ok((imported, optimizer))
                if imported.hidden_dims == config.hidden_dims && imported.mlp.activation == config.activation =>
            {
                (imported.mlp, optimizer)
            }
            Ok(_) => return problem("train", &Problem::new("resume_mismatch", &[])),
            Err(p) => return problem("train", &p),
        };
        let history: Vec<EpochStats> = rows
            .chunks_exact(6)
            .map(|r| EpochStats {
                epoch: r[0] as usize,
                avg_loss: r[1],
                test_accuracy: r[2],
                test_loss: r[3],
                seconds: r[4],
                samples_per_s: r[5],
            })
            .collect();
        let at_epoch_end = within.is_empty();
        // At an epoch end: at least one epoch, and at most all (a finished run, restored).
        let fits = match at_epoch_end {
            true => (1..=config.epochs).contains(&history.len()),
            false => history.len() < config.epochs,
        };
        if !fits {
            return problem("train", &Problem::new("resume_mismatch", &[]));
        }
        let trainer = Trainer::resume(config, mlp, optimizer, history, train_size);
        let trainer = match at_epoch_end {
            true => trainer,
            false => match MidEpoch::from_numbers(within).and_then(|at| trainer.within_epoch(at)) {
                Some(trainer) => trainer,
                None => return problem("train", &Problem::new("resume_mismatch", &[])),
            },
        };
        s.request = None;
        s.imported = None;
        let (batches, finished, elapsed) = (
            trainer.batches_per_epoch() as u32,
            trainer.is_finished(),
            trainer.live().elapsed_s,
        );
        s.trainer = Some(trainer);
        object(&[
            ("ok", true.into()),
            ("batches", batches.into()),
            ("finished", finished.into()),
            ("elapsedS", elapsed.into()),
        ])
    }

    /// The page's model as a weights file for the notebook: `{ok, bytes, name}`.
    pub fn export_weights(&self) -> JsValue {
        let s = self.state.borrow();
        let Some(trainer) = &s.trainer else {
            return problem("weights", &Problem::new("weights_none", &[]));
        };
        let c = &trainer.config;
        let epochs = s.imported.as_ref().map_or(0, |i| i.epochs) + trainer.history.len();
        let score = match (trainer.history.last(), s.imported.as_ref().and_then(|i| i.score)) {
            (Some(last), _) => Some(Score {
                accuracy: last.test_accuracy,
                loss: last.test_loss,
            }),
            (None, score) => score,
        };
        let hidden: Vec<String> = trainer.mlp.layers.iter().map(|l| l.outputs().to_string()).collect();
        // A model loaded and not trained here keeps its file's story; else this run's.
        let untouched = trainer.history.is_empty();
        let mut metadata: BTreeMap<String, String> = match &s.imported {
            Some(imported) if untouched => imported.metadata.clone(),
            _ => BTreeMap::from([
                ("optimizer_steps".to_string(), trainer.optimizer.steps.to_string()),
                ("weight_decay".to_string(), c.weight_decay.to_string()),
                ("lr".to_string(), c.learning_rate.to_string()),
                ("batch".to_string(), c.batch_size.to_string()),
                ("seed".to_string(), c.seed.to_string()),
                (
                    "train_limit".to_string(),
                    c.train_limit.map_or("all".to_string(), |n| n.to_string()),
                ),
            ]),
        };
        if !untouched {
            for (name, value) in c
                .optimizer
                .fields()
                .into_iter()
                .filter(|(name, _)| c.optimizer.reads(name))
            {
                metadata.insert(if name == "opt" { "optimizer" } else { name }.to_string(), value);
            }
        }
        if c.bug != Bug::None && !untouched {
            metadata.insert("bug".into(), c.bug.code().into());
        }
        for (key, value) in [
            ("format", "pt".to_string()),
            ("hidden_dims", hidden.join(",")),
            ("input", "pixels / 255, in [0, 1], no normalisation".to_string()),
            ("epochs", epochs.to_string()),
            ("project", env!("CARGO_PKG_NAME").to_string()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
        ] {
            metadata.insert(key.into(), value);
        }
        if let Some(score) = score {
            metadata.insert("test_accuracy".into(), format!("{:.2}", score.accuracy));
            metadata.insert("test_loss".into(), format!("{:.6}", score.loss));
        }
        match weights::export(&trainer.mlp, &metadata) {
            Ok(bytes) => object(&[
                ("ok", true.into()),
                ("bytes", Uint8Array::from(bytes.as_slice()).into()),
                ("name", weights::file_name(&trainer.mlp, epochs).into()),
            ]),
            Err(p) => problem("weights", &p),
        }
    }

    /// The images of a confusion-matrix cell from the last evaluation, most confident
    /// first: `{total, items: [{index, confidence}], pixels}` (`pixels`: 784 bytes an item).
    pub fn gallery(&self, truth: u32, predicted: u32, offset: u32, limit: u32) -> JsValue {
        let s = self.state.borrow();
        let Some(test) = &s.test else {
            return problem("gallery", &Problem::new("train_no_data", &[]));
        };
        let evaluation = match (&s.imported, &s.trainer) {
            (_, Some(t)) if t.evaluation().is_some() => t.evaluation(),
            (Some(i), _) if i.score.is_some() => Some(&i.evaluation),
            _ => None,
        };
        let (Some(evaluation), true) = (evaluation, truth < 10 && predicted < 10) else {
            return problem("gallery", &Problem::new("gallery_none", &[]));
        };
        let (total, items) = evaluation.gallery(
            test,
            truth as usize,
            predicted as usize,
            offset as usize,
            limit as usize,
        );
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
        let s = self.state.borrow();
        let Some(tiles) = s.trainer.as_ref().and_then(|t| units::tiles(&t.mlp)) else {
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
        let s = self.state.borrow();
        let (Some(trainer), Some(test)) = (&s.trainer, &s.test) else {
            return JsValue::NULL;
        };
        let Some(detail) = units::unit(&trainer.mlp, test, unit as usize, TOP) else {
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
        object(&[
            ("bias", detail.bias.into()),
            (
                "outgoing",
                detail
                    .outgoing
                    .map_or(JsValue::NULL, |o| Float32Array::from(o.as_slice()).into()),
            ),
            ("top", top.into()),
            ("pixels", Uint8Array::from(pixels.as_slice()).into()),
        ])
    }

    /// Where the page's model came from: `{state: "none" | "untrained" | "trained" |
    /// "imported", arch,
    /// dtype, accuracy}` (accuracy: the last evaluation's, or null).
    pub fn model_info(&self) -> JsValue {
        let s = self.state.borrow();
        let Some(trainer) = &s.trainer else {
            return object(&[("state", "none".into())]);
        };
        let accuracy = match (trainer.history.last(), s.imported.as_ref().and_then(|i| i.score)) {
            (Some(last), _) => JsValue::from(last.test_accuracy),
            (None, Some(score)) => score.accuracy.into(),
            (None, None) => JsValue::NULL,
        };
        let state = match (&s.imported, trainer.is_untrained()) {
            (Some(_), _) => "imported",
            (None, true) => "untrained",
            (None, false) => "trained",
        };
        object(&[
            ("state", state.into()),
            ("arch", weights::arch(&trainer.mlp).into()),
            (
                "dtype",
                s.imported.as_ref().map_or(JsValue::NULL, |i| i.dtype.as_str().into()),
            ),
            ("accuracy", accuracy),
        ])
    }

    /// For `make bench`: `batches` steps of the notebook's configuration with the optimiser
    /// `optimizer` (`sgd`, `momentum`, `nesterov`, `adam`) back to back (no yields), one
    /// evaluation of the test set, and the first layer's kernel in L1.
    /// Returns `{samplesPerS, evalSeconds, kernelGflopPerS, firstLayerFlopPerSample}`.
    pub fn benchmark(&self, batches: u32, optimizer: &str) -> JsValue {
        let session = self.state.borrow();
        let (Some(train), Some(test)) = (&session.train, &session.test) else {
            return problem("train", &Problem::new("train_no_data", &[]));
        };
        let Some(config) = crate::bench::config_with_optimizer(optimizer) else {
            return problem("opt", &Problem::new("unknown_optimizer", &[&optimizer]));
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

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}
