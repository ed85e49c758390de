// @ts-check
// Weights shared with the notebook: the page's model out as a safetensors file, a
// notebook's model in (by the file picker or dropped anywhere on the page). Rust reads
// and writes the files and scores the model; this file moves bytes and shows results.
import { t, onLanguageChange, formatCount } from "./i18n.js";
import { nextPaint, saveFile, scrollToView } from "./ui.js";
import { MODEL_EVALUATED, MODEL_SETTLED, TRAIN_STATE, emit, on } from "./events.js";

/**
 * @param {WasmBindings} wasm
 * @param {Lab} lab
 * @param {import("./train.js").Training} training
 * @param {import("./gradcheck.js").Gradcheck} gradcheck
 */
export function initNotebook(wasm, lab, training, gradcheck) {
  const exportButton = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="weights-export"]'));
  const input = /** @type {HTMLInputElement} */ (document.querySelector('[data-testid="weights-import"]'));
  const status = document.getElementById("weights-status");
  const bar = /** @type {HTMLProgressElement} */ (document.getElementById("weights-progress"));
  const errorBox = document.getElementById("weights-error");
  /** @type {[string, unknown[]] | null} */
  let shown = null; // [key, args] of the status line
  let shownError = null;
  let busy = false;

  // The snippet follows the page's model: its hidden dims as Python writes them, its
  // activation (ReLU and tanh need their own forward in the notebook), and its file: the
  // one loaded, else the name a download gets (the notebook's own model before any).
  let loadedFile = null;
  const showSnippet = () => {
    const info = lab.model_info();
    const none = info.state === "none";
    const hidden = none ? "[256]" : pythonList(info.arch);
    const file = (info.state === "imported" && loadedFile) || (none ? "mlp-784-256-10-epoch25.safetensors" : info.fileName);
    const act = none ? "sigmoid" : info.activation;
    const code = document.getElementById("weights-snippet");
    code.textContent = act === "sigmoid" ? t("wt_snippet", [hidden, file]) : t("wt_snippet_act", [hidden, file, act]);
    code.dataset.activation = act;
  };
  const pythonList = (arch) => `[${arch.split("-").slice(1, -1).join(", ")}]`;
  on(TRAIN_STATE, () => showSnippet());

  const say = (key, args = []) => {
    shown = [key, args];
    status.textContent = t(key, args);
  };
  const fail = (result, fileName = null) => {
    shownError = { ...result, fileName };
    errorBox.textContent = describe(shownError);
    errorBox.dataset.code = result.code;
    errorBox.hidden = false;
  };
  const describe = (e) => (e.fileName ? t("wt_file_refused", [e.fileName, t(e.code, e.args)]) : t(e.code, e.args));

  function sync(state = training.state()) {
    exportButton.disabled = busy || !lab.has_model() || !["ready", "paused", "done", "error"].includes(state);
    input.disabled = busy || !["ready", "done", "error", "paused"].includes(state);
  }
  on(TRAIN_STATE, (detail) => sync(detail));

  /** Score the page's weights as they are now, in chunks with progress (Rust's
   *  `score_model`); the last answer, with `accuracy` unless refused. */
  async function scoreWeights() {
    bar.hidden = false;
    let p;
    do {
      await nextPaint();
      p = lab.score_model();
      if (p.ok === false) break;
      bar.max = p.total;
      bar.value = p.done;
      if (p.accuracy === undefined) say("wt_scoring_export", [formatCount(p.done), formatCount(p.total)]);
    } while (p.accuracy === undefined);
    bar.hidden = true;
    return p;
  }

  exportButton.addEventListener("click", async () => {
    errorBox.hidden = true;
    // Weights from inside an epoch: no row describes them, so they are scored first.
    let scored = null;
    if (lab.needs_score()) {
      busy = true;
      sync();
      training.setScoring(true);
      try {
        scored = await scoreWeights();
      } finally {
        busy = false;
        training.setScoring(false);
        sync();
      }
      if (scored.ok === false) return fail(scored);
    }
    const result = lab.export_weights();
    if (!result.ok) return fail(result);
    saveFile(new Blob([result.bytes], { type: "application/octet-stream" }), result.name);
    if (scored) say("wt_exported_scored", [result.name, scored.accuracy.toFixed(2), scored.loss.toFixed(4)]);
    else say("wt_exported", [result.name]);
    showSnippet();
  });

  /** The file's own `__metadata__`, as text: it comes from outside and is never markup. */
  function showMetadata(entries) {
    const list = document.getElementById("weights-metadata");
    list.replaceChildren(...entries.flatMap(([key, value]) => [
      Object.assign(document.createElement("dt"), { textContent: key }),
      Object.assign(document.createElement("dd"), { textContent: value }),
    ]));
    document.getElementById("weights-metadata-box").hidden = entries.length === 0;
  }

  /** Read `file` as a weights file, or hand it to the gradient check when it is a bundle. */
  async function load(file) {
    errorBox.hidden = true;
    const refused = wasm.check_file_size(file.size);
    if (refused) return fail(refused, file.name);
    if (busy || !["ready", "done", "error", "paused"].includes(training.state())) {
      return fail({ code: "wt_wait", args: [] });
    }
    busy = true;
    sync();
    training.setScoring(true);
    const hadFocus = document.activeElement === input;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const result = lab.import_weights(bytes);
      if (!result.ok && result.code === "st_is_bundle") return gradcheck.checkBundle(bytes, file.name);
      if (!result.ok) {
        // The model and run stay as they were; the status says so only when there is none.
        if (status.dataset.state !== "loaded") status.dataset.state = "error";
        return fail(result, file.name);
      }
      training.adoptModel(result.hidden);
      showMetadata(result.metadata);
      loadedFile = file.name;
      showSnippet();
      status.dataset.state = "loaded";
      status.dataset.arch = result.arch;
      delete status.dataset.testAccuracy;
      say("wt_evaluating", [result.arch, result.dtype, 0, formatCount(10000)]);
      bar.hidden = false;
      let p;
      do {
        await nextPaint();
        p = lab.evaluate_imported();
        if (p.ok === false) break;
        bar.max = p.total;
        bar.value = p.done;
        if (p.accuracy === undefined) say("wt_evaluating", [result.arch, result.dtype, p.done, p.total]);
      } while (p.accuracy === undefined);
      bar.hidden = true;
      if (p.ok === false) return fail(p);
      status.dataset.testAccuracy = p.accuracy.toFixed(2);
      status.dataset.testLoss = String(p.loss);
      say("wt_loaded", [file.name, result.arch, result.dtype, p.accuracy.toFixed(2), p.loss.toFixed(4)]);
      emit(MODEL_EVALUATED, { confusion: p.confusion, accuracy: p.accuracy });
      emit(MODEL_SETTLED);
    } finally {
      busy = false;
      bar.hidden = true;
      training.setScoring(false);
      sync();
      if (hadFocus || document.activeElement === document.body) input.focus();
    }
  }

  gradcheck.sendWeightsTo((file) => {
    document.querySelector('[data-testid="weights-panel"]').scrollIntoView({ behavior: "smooth", block: "nearest" });
    load(file);
  });

  input.addEventListener("change", () => {
    const [file] = input.files;
    input.value = ""; // the same file again is a new choice
    if (file) load(file);
  });
  // A file dropped anywhere on the page: weights, or a gradient bundle.
  document.addEventListener("dragover", (event) => {
    if ([...event.dataTransfer.types].includes("Files")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    const [file] = event.dataTransfer.files;
    if (!file) return;
    event.preventDefault();
    scrollToView(document.querySelector('[data-testid="weights-panel"]'), "nearest");
    load(file);
  });
  // A fresh model or a reset: no file stands behind the page's model any more.
  on(MODEL_SETTLED, () => {
    showSnippet();
    const info = lab.model_info();
    if (info.state !== "imported") document.getElementById("weights-metadata-box").hidden = true;
    if (info.state !== "imported" && status.dataset.state === "loaded") {
      status.dataset.state = "none";
      delete status.dataset.arch;
      delete status.dataset.testAccuracy;
      shown = null;
      status.textContent = "";
    }
  });

  onLanguageChange(() => {
    showSnippet();
    if (shown) status.textContent = t(...shown);
    if (shownError && !errorBox.hidden) errorBox.textContent = describe(shownError);
  });
  sync();
  showSnippet();
}
