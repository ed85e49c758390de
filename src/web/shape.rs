//! Rust's answers as the plain JS objects the page reads.

use super::{object, strings};
use crate::check::bundle::BundleReport;
use crate::check::gradcheck::{self, CheckReport};
use crate::check::inspect::{SgdStep, StepView, TensorView};
use crate::check::lesson::ChainRule;
use crate::model::bug::ShapeCrash;
use crate::train::evaluate::{recall, row_shares, Confusion};
use crate::train::{EpochStats, GradFlow, Progress, Trainer};
use crate::views::units;
use js_sys::{Array, Float32Array, Float64Array, Uint32Array};
use wasm_bindgen::prelude::*;

fn or_null<T>(value: Option<T>, shape: impl FnOnce(T) -> JsValue) -> JsValue {
    value.map_or(JsValue::NULL, shape)
}

pub(super) fn report_to_js(report: &CheckReport) -> JsValue {
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
                ("checked", (row.checked as u32).into()),
                ("entries", (row.shape.iter().product::<usize>() as u32).into()),
                ("worst", strings(&row.worst)),
            ])
        })
        .collect();
    object(&[
        ("ok", true.into()),
        ("spot", or_null(report.spot, |n| (n as u32).into())),
        ("fullSeconds", report.full_seconds.round().into()),
        ("loss", report.loss.into()),
        ("outputError", report.output_error.into()),
        ("outputPassed", report.output_passed.into()),
        ("tolerance", gradcheck::TOLERANCE.into()),
        ("rows", rows.into()),
        ("crash", or_null(report.crash.as_ref(), crash_to_js)),
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
    let shape: Array = t.shape.iter().map(|&d| JsValue::from(d as u32)).collect();
    object(&[
        ("name", t.name.as_str().into()),
        ("shape", shape.into()),
        ("values", Float64Array::from(t.values.as_slice()).into()),
        ("min", t.min.into()),
        ("max", t.max.into()),
        ("norm", t.norm.into()),
        ("equation", t.equation.as_str().into()),
        ("code", t.code.as_str().into()),
        ("broken", t.broken.into()),
    ])
}

fn sgd_to_js(step: &SgdStep) -> JsValue {
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
}

pub(super) fn step_view_to_js(view: &StepView, index: Option<usize>) -> JsValue {
    let cards = |list: &[TensorView]| -> JsValue { list.iter().map(tensor_to_js).collect::<Array>().into() };
    object(&[
        ("ok", true.into()),
        ("index", or_null(index, |i| (i as u32).into())),
        ("label", (view.label as u32).into()),
        ("predicted", (view.predicted as u32).into()),
        ("loss", view.loss.into()),
        ("forward", cards(&view.forward)),
        ("backward", cards(&view.backward)),
        ("crash", or_null(view.crash.as_ref(), crash_to_js)),
        ("sgd", or_null(view.sgd.as_ref(), sgd_to_js)),
    ])
}

pub(super) fn bundle_to_js(report: &BundleReport) -> JsValue {
    let rows: Array = report
        .rows
        .iter()
        .map(|row| {
            object(&[
                ("name", row.name.as_str().into()),
                ("shape", strings(&row.shape)),
                ("gradShape", or_null(row.grad_shape.as_ref(), |s| strings(s))),
                ("errorNorm", row.error_norm.into()),
                ("passed", row.passed.into()),
            ])
        })
        .collect();
    let (hint, hint_args) = report.hint.as_ref().map_or(("", vec![]), |h| h.code_and_args());
    object(&[
        ("ok", true.into()),
        ("loss", report.loss.into()),
        ("lossKind", report.loss_kind.code().into()),
        ("dtype", report.dtype.as_str().into()),
        ("tolerance", report.tolerance.into()),
        ("barScales", report.bar_scales.into()),
        ("referenceError", or_null(report.reference_error, JsValue::from)),
        ("inputShape", strings(&report.input_shape)),
        ("hint", hint.into()),
        ("hintArgs", strings(&hint_args)),
        ("rows", rows.into()),
    ])
}

/// A training step's progress, with the status line's figures.
pub(super) fn progress_to_js(progress: &Progress, trainer: &Trainer) -> JsValue {
    let live = trainer.live();
    let common = [
        ("smoothedLoss", live.smoothed_loss.into()),
        ("samplesPerS", live.samples_per_s.into()),
        ("elapsedS", live.elapsed_s.into()),
        ("epochs", (live.epochs as u32).into()),
    ];
    let specific: Vec<(&str, JsValue)> = match progress {
        Progress::Batch { .. } => batch_to_js(progress),
        Progress::Evaluating { epoch, done, total } => vec![
            ("kind", "evaluating".into()),
            ("epoch", (*epoch as u32).into()),
            ("done", (*done as u32).into()),
            ("total", (*total as u32).into()),
        ],
        Progress::EpochDone(stats) => epoch_to_js(stats, trainer),
        Progress::Finished => vec![("kind", "finished".into())],
    };
    object(&[specific.as_slice(), &common].concat())
}

fn batch_to_js(progress: &Progress) -> Vec<(&'static str, JsValue)> {
    let Progress::Batch {
        epoch,
        batch,
        batches,
        loss,
        flow,
    } = progress
    else {
        return Vec::new();
    };
    vec![
        ("flow", or_null(flow.as_ref(), flow_to_js)),
        ("kind", "batch".into()),
        ("x", ((epoch - 1) as f64 + *batch as f64 / *batches as f64).into()),
        ("epoch", (*epoch as u32).into()),
        ("batch", (*batch as u32).into()),
        ("batches", (*batches as u32).into()),
        ("loss", (*loss).into()),
    ]
}

fn epoch_to_js(s: &EpochStats, trainer: &Trainer) -> Vec<(&'static str, JsValue)> {
    let confusion = or_null(trainer.evaluation(), |e| confusion_to_js(e.confusion()));
    vec![
        ("kind", "epoch".into()),
        ("epoch", (s.epoch as u32).into()),
        ("avgLoss", s.avg_loss.into()),
        ("testAccuracy", s.test_accuracy.into()),
        ("testLoss", s.test_loss.into()),
        ("seconds", s.seconds.into()),
        ("epochSamplesPerS", s.samples_per_s.into()),
        ("confusion", confusion),
    ]
}

pub(super) fn lit_to_js(lit: &units::Lit) -> JsValue {
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
pub(super) fn confusion_to_js(confusion: &Confusion) -> JsValue {
    let counts: Vec<u32> = confusion.iter().flatten().copied().collect();
    object(&[
        ("counts", Uint32Array::from(counts.as_slice()).into()),
        ("shares", Float64Array::from(row_shares(confusion).as_slice()).into()),
        ("recall", Float64Array::from(recall(confusion).as_slice()).into()),
    ])
}

/// The lesson's chain rule for one weight of test image `index` (class `label`).
pub(super) fn chain_rule_to_js(rule: &ChainRule, index: usize, label: usize) -> JsValue {
    let terms: Array = rule
        .terms
        .iter()
        .map(|term| {
            let factors: Array = term
                .factors
                .iter()
                .map(|f| object(&[("name", f.name.as_str().into()), ("value", f.value.into())]))
                .collect();
            let written = term.written();
            object(&[
                ("value", term.value.into()),
                ("factors", factors.into()),
                ("written", written.as_str().into()),
            ])
        })
        .collect();
    object(&[
        ("ok", true.into()),
        ("tensor", rule.tensor.into()),
        ("row", (rule.row as u32).into()),
        ("col", (rule.col as u32).into()),
        ("index", (index as u32).into()),
        ("label", (label as u32).into()),
        ("terms", terms.into()),
        ("sum", rule.sum.into()),
        ("backward", rule.backward.into()),
        ("numeric", rule.numeric.into()),
    ])
}
