// Section 1: the gradient check. Rust parses, validates and computes; this file only
// reads the form and renders the rows it gets back.
import { t, onLanguageChange } from "./i18n.js";
import { showFieldError, clearFieldErrors, nextPaint, formatNumber } from "./ui.js";

export function initGradcheck(wasm, training) {
  const form = document.getElementById("gradcheck-form");
  const button = form.querySelector('[data-testid="gradcheck-run"]');
  const cancel = form.querySelector('[data-testid="gradcheck-cancel"]');
  const table = document.querySelector('[data-testid="gradcheck-table"]');
  const summary = document.getElementById("gradcheck-summary");
  const bar = document.getElementById("gradcheck-progress");
  const crash = document.getElementById("gradcheck-crash");
  const bugNote = document.getElementById("bug-note");
  let lastResult = null; // the table on show, re-rendered when the language changes
  let message = null; // or the summary's message, as [key, args]
  let check = null; // the check in progress

  const say = (key, args = []) => {
    message = [key, args];
    summary.textContent = t(key, args);
  };

  const syncBatchField = () => {
    form.batch.disabled = check !== null || form.sample_kind.value !== "batch";
    if (form.batch.disabled && !check) clearFieldErrors(form, "batch"); // no message under a field not in use
  };
  // While a check runs its fields describe it: they stay as they are until it ends.
  const lockFields = (locked) => {
    for (const el of form.elements) if (el !== cancel && el !== button) el.disabled = locked;
    syncBatchField();
  };
  form.sample_kind.addEventListener("change", syncBatchField);
  syncBatchField();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (check) return;
    clearFieldErrors(form);
    // The last table described other fields: gone until this check has its own.
    lastResult = null;
    table.hidden = true;
    crash.hidden = true;
    button.disabled = true;
    say("gc_running");
    await nextPaint();
    try {
      check = new wasm.GradientCheck(
        form.input_dim.value, form.hidden_dims.value, form.output_dim.value,
        form.loss.value, form.sample_kind.value, form.batch.value, form.seed.value, form.bug.value,
      );
    } catch (refusal) {
      if (refusal?.ok !== false) throw refusal;
      showFieldError(form, refusal);
      message = null;
      summary.textContent = "";
      button.disabled = false;
      return;
    }
    lockFields(true);
    bar.max = check.total();
    bar.value = 0;
    bar.hidden = false;
    const keyboard = [button, document.body].includes(document.activeElement);
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
      const hadFocus = [cancel, document.body].includes(document.activeElement);
      cancel.hidden = true;
      button.disabled = false;
      if (hadFocus) button.focus();
    }
    if (result === "cancelled") {
      say("gc_cancelled");
      return;
    }
    message = null;
    lastResult = { ...result, bug: form.bug.value };
    render(lastResult);
  });

  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    check?.cancel();
  });

  function render(result) {
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
    const broken = result.bug && result.bug !== "none" ? `${t("bug_with", [t(`bug_${result.bug}_name`)])} ` : "";
    summary.textContent = broken + t("gc_summary", [
      formatNumber(result.loss), formatNumber(result.outputError),
      t(result.outputPassed ? "pass" : "fail"), passed, result.rows.length, result.tolerance.toExponential(0),
    ]);
    summary.dataset.outputError = result.outputError;
    const body = table.tBodies[0];
    body.replaceChildren(...result.rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.param = row.name;
      tr.dataset.error = String(row.errorNorm);
      tr.dataset.pass = String(row.passed);
      tr.className = row.passed ? "pass" : "fail";
      const cells = [
        row.name === "input" ? t("gc_input_row") : row.name,
        `(${row.shape.join(", ")}${row.shape.length === 1 ? "," : ""})`,
        `(${row.gradShape.join(", ")}${row.gradShape.length === 1 ? "," : ""})`,
        formatNumber(row.errorNorm),
        formatNumber(row.maxRelError),
        row.passed ? `✓ ${t("pass")}` : `✗ ${t("fail")}`,
      ];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    table.hidden = false;
  }

  // "Break the backward": the note says what the chosen mistake is and what it spoils.
  function showBugNote() {
    const bug = form.bug.value;
    bugNote.hidden = bug === "none";
    bugNote.dataset.bug = bug;
    if (bug !== "none") document.getElementById("bug-note-text").textContent = t(`bug_${bug}_note`);
    bugNote.querySelector("button").hidden = bug === "none" || bug === "notebook_1d_transpose";
  }
  form.bug.addEventListener("change", () => {
    showBugNote();
    window.dispatchEvent(new CustomEvent("bug-chosen", { detail: { bug: form.bug.value, from: "gradcheck" } }));
  });
  window.addEventListener("bug-chosen", (e) => {
    if (e.detail.from === "gradcheck" || check) return;
    form.bug.value = e.detail.bug;
    showBugNote();
  });
  bugNote.querySelector("button").addEventListener("click", () => {
    if (!training.trainWithBug(form.bug.value)) say("bug_train_wait");
  });
  showBugNote();

  onLanguageChange(() => {
    if (lastResult) render(lastResult);
    else if (message) summary.textContent = t(...message);
    showBugNote();
  });
  button.disabled = false;
}
