// @ts-check
// Section 1: the gradient check. Rust parses, validates and computes; this file only
// reads the form and renders the rows it gets back.
import { fields, isRead } from "./schema.js";
import { t, hasString, onLanguageChange, formatCount } from "./i18n.js";
import { showFieldError, clearFieldErrors, nextPaint, formatNumber, scrollToView } from "./ui.js";
import { BUG_CHOSEN, emit, on } from "./events.js";

/**
 * Section 1's form, with its fields by name.
 * @typedef {HTMLFormElement & {
 *   input_dim: HTMLInputElement, hidden_dims: HTMLInputElement, output_dim: HTMLInputElement,
 *   loss: HTMLSelectElement, sample_kind: HTMLSelectElement, batch: HTMLInputElement,
 *   seed: HTMLInputElement, act: HTMLSelectElement, bug: HTMLSelectElement,
 * }} GradcheckForm
 */

/** @typedef {ReturnType<typeof initGradcheck>} Gradcheck */

/**
 * @param {WasmBindings} wasm
 * @param {import("./train.js").Training} training
 */
export function initGradcheck(wasm, training) {
  const form = /** @type {GradcheckForm} */ (document.getElementById("gradcheck-form"));
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('[data-testid="gradcheck-run"]'));
  const cancel = /** @type {HTMLButtonElement} */ (form.querySelector('[data-testid="gradcheck-cancel"]'));
  const table = /** @type {HTMLTableElement} */ (document.querySelector('[data-testid="gradcheck-table"]'));
  const summary = document.getElementById("gradcheck-summary");
  const bar = /** @type {HTMLProgressElement} */ (document.getElementById("gradcheck-progress"));
  const crash = document.getElementById("gradcheck-crash");
  const bugNote = document.getElementById("bug-note");
  const bundleInput = /** @type {HTMLInputElement} */ (document.querySelector('[data-testid="bundle-import"]'));
  const bundleError = document.getElementById("bundle-error");
  const bundleHint = document.getElementById("bundle-hint");
  let lastResult = null; // the table on show, re-rendered when the language changes
  /** @type {[string, unknown[]] | null} */
  let message = null; // or the summary's message, as [key, args]
  let check = null; // the check in progress

  const say = (key, args = []) => {
    message = [key, args];
    summary.textContent = t(key, args);
  };

  const syncBatchField = () => {
    form.batch.disabled = check !== null || !isRead("check", "batch", { sample_kind: form.sample_kind.value });
    if (form.batch.disabled && !check) clearFieldErrors(form, "batch"); // no message under a field not in use
  };
  // While a check runs its fields describe it: they stay as they are until it ends.
  const lockFields = (locked) => {
    for (const el of /** @type {HTMLCollectionOf<FormControl>} */ (form.elements)) if (el !== cancel && el !== button) el.disabled = locked;
    syncBatchField();
  };
  form.sample_kind.addEventListener("change", syncBatchField);
  syncBatchField();
  // The formulas show the chosen activation and its derivative.
  const syncActivation = () => {
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("#gradcheck [data-act]"))) el.hidden = el.dataset.act !== form.act.value;
  };
  form.act.addEventListener("change", () => { syncActivation(); showBugNote(); });
  syncActivation();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    runForm();
  });
  /** Run the check on the form as it stands. Resolves to its report, "cancelled", or
   *  the refusal shown beside a field; `null` when a check is already running. `forLesson`:
   *  the keyboard stays in the lesson, and the table says whose case it is. */
  async function runForm(forLesson = false) {
    if (check) return null;
    clearFieldErrors(form);
    // The last table described other fields: gone until this check has its own.
    lastResult = null;
    table.hidden = true;
    crash.hidden = true;
    bundleHint.hidden = true;
    button.disabled = true;
    say("gc_running");
    await nextPaint();
    try {
      check = new wasm.GradientCheck(Object.fromEntries(fields("check").map(({ name }) => [name, form[name].value])));
    } catch (refusal) {
      if (refusal?.ok !== false) throw refusal;
      showFieldError(form, refusal);
      message = null;
      summary.textContent = "";
      button.disabled = false;
      return refusal;
    }
    lockFields(true);
    bar.max = check.total();
    bar.value = 0;
    bar.hidden = false;
    const keyboard = !forLesson && /** @type {Element[]} */ ([button, document.body]).includes(document.activeElement);
    cancel.hidden = false;
    cancel.disabled = false;
    if (keyboard) cancel.focus(); // Run check is disabled: the next thing to press
    let result;
    try {
      result = await check.run((p) => {
        bar.value = p.done;
        say("gc_progress", [p.done, p.total]);
      });
    } finally {
      check.free();
      check = null;
      lockFields(false);
      bar.hidden = true;
      const hadFocus = !forLesson && /** @type {Element[]} */ ([cancel, document.body]).includes(document.activeElement);
      cancel.hidden = true;
      button.disabled = false;
      if (hadFocus) button.focus();
    }
    if (result === "cancelled") {
      say("gc_cancelled");
      return result;
    }
    message = null;
    lastResult = { ...result, bug: form.bug.value, forLesson };
    render(lastResult);
    return lastResult;
  }

  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    check?.cancel();
  });

  function render(result) {
    table.querySelector("th:nth-child(4)").textContent = t(result.source === "notebook" ? "bd_col_error" : "gc_col_error");
    if (result.source === "notebook") return renderBundle(result);
    table.classList.remove("notebook");
    bundleHint.hidden = true;
    summary.dataset.bug = result.bug;
    if (result.crash) {
      // The notebook's 1-D crash: PyTorch's message and the fix, instead of a table.
      summary.textContent = t("bug_crashed");
      crash.querySelector("pre").textContent = result.crash.message;
      crash.querySelector("p").textContent = t("bug_crash_fix", [result.crash.gradLen, result.crash.inputLen]);
      crash.hidden = false;
      table.hidden = true;
      return;
    }
    const passed = result.rows.filter((r) => r.passed).length;
    const lesson = result.forLesson ? `${t("gc_lesson_case")} ` : "";
    const broken = result.bug && result.bug !== "none" ? t("bug_with", [t(`bug_${result.bug}_name`)]) : "";
    // A net too large to check whole: a spot check of a few random entries per tensor.
    const spot = result.spot === null ? "" : `${t("gc_spot_summary", [result.spot, formatCount(result.fullSeconds)])} `;
    summary.textContent = lesson + broken + spot + t("gc_summary", [
      formatNumber(result.loss), formatNumber(result.outputError),
      t(result.outputPassed ? "pass" : "fail"), passed, result.rows.length, result.tolerance.toExponential(0),
    ]);
    summary.dataset.outputError = result.outputError;
    summary.dataset.spot = String(result.spot ?? "");
    fillTable(result.rows, null, result.spot !== null);
  }

  const shapeText = (shape) => (shape ? `(${shape.join(", ")}${shape.length === 1 ? "," : ""})` : t("bd_missing"));

  /** The table's rows; `source` marks rows that came from a notebook bundle; `spot`: each
   *  row says how many entries were checked and which differed most. */
  function fillTable(rows, source, spot = false) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.param = row.name;
      tr.dataset.error = String(row.errorNorm);
      tr.dataset.pass = String(row.passed);
      if (source) tr.dataset.source = source;
      tr.className = row.passed ? "pass" : "fail";
      const cells = [
        row.name === "input" ? t("gc_input_row") : row.name,
        shapeText(row.shape),
        shapeText(row.gradShape),
        row.gradShape && Number.isFinite(row.errorNorm) ? formatNumber(row.errorNorm) : "—",
        row.maxRelError === undefined ? "—" : formatNumber(row.maxRelError),
        row.passed ? `✓ ${t("pass")}` : `✗ ${t("fail")}`,
      ];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      if (spot) {
        tr.dataset.checked = String(row.checked);
        tr.dataset.worst = row.worst.join(",");
        const note = document.createElement("small");
        note.className = "spot-note";
        note.textContent = t("gc_spot_row", [formatCount(row.checked), formatCount(row.entries), `[${row.worst.join(", ")}]`]);
        tr.cells[0].append(document.createElement("br"), note);
      }
      return tr;
    }));
    table.hidden = false;
  }

  // "Check my notebook's backward": the student's own gradients, as the same table.
  document.getElementById("bundle-snippet").textContent = t("bd_snippet");
  document.querySelector('[data-testid="bundle-copy"]').addEventListener("click", async () => {
    const copied = document.getElementById("bundle-copied");
    try {
      await navigator.clipboard.writeText(t("bd_snippet"));
      copied.dataset.key = "bd_copied";
    } catch (_) {
      // No clipboard (an insecure origin, a refusal): select the text to copy by hand.
      getSelection().selectAllChildren(document.getElementById("bundle-snippet"));
      copied.dataset.key = "bd_copy_by_hand";
    }
    copied.textContent = t(copied.dataset.key);
  });

  function renderBundle(result) {
    crash.hidden = true;
    table.classList.add("notebook");
    const passed = result.rows.filter((r) => r.passed).length;
    const bar = t(result.barScales ? "bd_bar_scaled" : "bd_bar", [result.tolerance.toExponential(0), result.dtype]);
    const oneSample = result.inputShape.length === 1 ? ` ${t("bd_one_sample")}` : "";
    const reference = result.referenceError === null ? t("bd_reference_skipped") : t("bd_reference", [formatNumber(result.referenceError)]);
    summary.textContent = t("bd_summary", [result.fileName, t(result.lossKind === "mse" ? "loss_mse" : "loss_ce"),
      shapeText(result.inputShape), formatNumber(result.loss), passed, result.rows.length, bar, reference]) + oneSample;
    bundleHint.hidden = !result.hint;
    if (result.hint) bundleHint.textContent = t(result.hint, result.hintArgs);
    fillTable(result.rows, "notebook");
  }

  function showBundleError(result, fileName) {
    // The table on show described another file: it goes with its summary and hint.
    if (lastResult?.source === "notebook") {
      lastResult = null;
      table.hidden = true;
      bundleHint.hidden = true;
      summary.textContent = "";
    }
    bundleError.dataset.code = result.code;
    bundleError.dataset.args = JSON.stringify(result.args);
    bundleError.dataset.file = fileName;
    bundleError.textContent = t("wt_file_refused", [fileName, t(result.code, result.args)]);
    bundleError.hidden = false;
    /** @type {HTMLDetailsElement} */ (document.getElementById("bundle-panel")).open = true;
  }

  /** Where a weights file given to "Load my bundle" goes (notebook.js's Load weights). */
  let loadWeights = /** @type {((file: File) => void) | null} */ (null);

  /** Check a bundle; `file`, when given, is the picked file: a weights file goes to Load weights. */
  function checkBundle(bytes, fileName, file = null) {
    if (check) return; // a check is running: its table comes first
    bundleError.hidden = true;
    const result = wasm.check_bundle(bytes);
    if (!result.ok && result.code === "bundle_is_weights" && file && loadWeights) {
      showBundleError(result, fileName);
      return loadWeights(file);
    }
    /** @type {HTMLDetailsElement} */ (document.getElementById("bundle-panel")).open = true;
    if (!result.ok) return showBundleError(result, fileName);
    message = null;
    lastResult = { ...result, source: "notebook", fileName };
    render(lastResult);
    scrollToView(document.getElementById("gradcheck-result"), "nearest");
  }

  bundleInput.addEventListener("change", async () => {
    const [file] = bundleInput.files;
    bundleInput.value = "";
    if (!file) return;
    const refused = wasm.check_file_size(file.size);
    if (refused) return showBundleError(refused, file.name);
    checkBundle(new Uint8Array(await file.arrayBuffer()), file.name, file);
  });

  // "Break the backward": the note says what the chosen mistake is and what it spoils.
  function showBugNote() {
    const bug = form.bug.value;
    bugNote.hidden = bug === "none";
    bugNote.dataset.bug = bug;
    // Some mistakes read differently in a ReLU or tanh net: their notes say so.
    const own = `bug_${bug}_note_${form.act.value}`;
    if (bug !== "none") document.getElementById("bug-note-text").textContent = t(hasString(own) ? own : `bug_${bug}_note`);
    bugNote.querySelector("button").hidden = bug === "none" || bug === "notebook_1d_transpose";
  }
  form.bug.addEventListener("change", () => {
    showBugNote();
    emit(BUG_CHOSEN, { bug: form.bug.value, from: "gradcheck" });
  });
  on(BUG_CHOSEN, (detail) => {
    if (detail.from === "gradcheck" || check) return;
    form.bug.value = detail.bug;
    showBugNote();
  });
  bugNote.querySelector("button").addEventListener("click", () => {
    if (!training.trainWithBug(form.bug.value, form.act.value)) say("bug_train_wait");
  });
  showBugNote();

  onLanguageChange(() => {
    if (lastResult) render(lastResult);
    else if (message) summary.textContent = t(...message);
    showBugNote();
    document.getElementById("bundle-snippet").textContent = t("bd_snippet");
    const copied = document.getElementById("bundle-copied");
    if (copied.dataset.key) copied.textContent = t(copied.dataset.key);
    if (!bundleError.hidden && bundleError.dataset.code) {
      const inner = t(bundleError.dataset.code, JSON.parse(bundleError.dataset.args));
      bundleError.textContent = t("wt_file_refused", [bundleError.dataset.file, inner]);
    }
  });
  button.disabled = false;

  const formValues = () => Object.fromEntries(fields("check").map(({ name }) => [name, form[name].value]));
  function setForm(values) {
    for (const { name } of fields("check")) form[name].value = values[name];
    syncBatchField();
    syncActivation();
    showBugNote();
  }
  /** For the lesson: the check on the form's defaults (Part 1) changed by `values`. The
   *  form is the student's again afterwards. Rejects with a problem to show. */
  async function runCase(values) {
    if (check) throw { code: "ls_busy_check", args: [] };
    const before = formValues();
    setForm(Object.fromEntries(fields("check").map(({ name, default: value }) => [name, values[name] ?? value])));
    try {
      const result = await runForm(true);
      if (result === "cancelled") throw { code: "ls_check_cancelled", args: [] };
      if (result?.ok === false) throw result;
      return result;
    } finally {
      setForm(before);
    }
  }
  return {
    checkBundle,
    runCase,
    sendWeightsTo: (/** @type {(file: File) => void} */ load) => { loadWeights = load; },
  };
}
