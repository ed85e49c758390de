// @ts-check
// Entry point: waits for Trunk's wasm loader, then wires each section.
import { t, initLanguage } from "./i18n.js";
import { initGradcheck } from "./gradcheck.js";
import { initTraining } from "./train.js";
import { initDrawing } from "./draw.js";
import { initStep } from "./step.js";
import { initNotebook } from "./notebook.js";
import { initRuns } from "./runs.js";
import { initLearned } from "./learned.js";
import { initAutosave } from "./autosave.js";
import { initOffline } from "./offline.js";
import { initStatements } from "./statements.js";
import { initLesson } from "./lesson.js";
import { TRUNK_STARTED, WASM_PANIC, on } from "./events.js";
import { loadSchema, buildForm, fillOptions, field } from "./schema.js";

function showFatal(message) {
  const el = document.getElementById("fatal");
  el.textContent = message;
  el.hidden = false;
}

on(WASM_PANIC, (detail) => showFatal(t("panic", [detail])));

function wasmReady() {
  if (window.wasmBindings) return Promise.resolve(window.wasmBindings);
  return new Promise((resolve, reject) => {
    addEventListener(TRUNK_STARTED, () => resolve(window.wasmBindings), { once: true });
    addEventListener("unhandledrejection", (e) => reject(e.reason), { once: true });
  });
}

initLanguage();
initStatements(); // readable before the wasm loads, and if it never does
wasmReady().then(
  (wasm) => {
    document.getElementById("loading").hidden = true;
    const lab = new wasm.Lab();
    // The forms' options and defaults, from Rust's one description of them.
    loadSchema(wasm);
    buildForm(/** @type {HTMLFormElement} */ (document.getElementById("train-form")), "train");
    buildForm(/** @type {HTMLFormElement} */ (document.getElementById("gradcheck-form")), "check");
    fillOptions(/** @type {HTMLSelectElement} */ (document.querySelector('[data-testid="step-break-backward"]')), field("check", "bug"));
    const training = initTraining(wasm, lab);
    const gradcheck = initGradcheck(wasm, training);
    const drawing = initDrawing(lab, training);
    const step = initStep(lab, training, drawing);
    initNotebook(wasm, lab, training, gradcheck);
    initLesson(lab, training, gradcheck, step);
    initRuns(training);
    initLearned(lab, step);
    initAutosave(lab, training);
    initOffline(training);
    document.body.dataset.ready = "true";
    performance.mark("interactive");
  },
  (error) => {
    document.getElementById("loading").hidden = true;
    showFatal(t("wasm_failed", [error?.message ?? String(error)]));
  },
);
