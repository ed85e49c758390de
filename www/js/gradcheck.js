// Section 1: the gradient check. Rust parses, validates and computes; this file only
// reads the form and renders the rows it gets back.
import { t, onLanguageChange } from "./i18n.js";
import { showFieldError, clearFieldErrors, nextPaint, formatNumber } from "./ui.js";

export function initGradcheck(wasm) {
  const form = document.getElementById("gradcheck-form");
  const button = form.querySelector('[data-testid="gradcheck-run"]');
  const table = document.querySelector('[data-testid="gradcheck-table"]');
  const summary = document.getElementById("gradcheck-summary");
  let lastResult = null;

  const syncBatchField = () => {
    form.batch.disabled = form.sample_kind.value !== "batch";
  };
  form.sample_kind.addEventListener("change", syncBatchField);
  syncBatchField();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    button.disabled = true;
    summary.textContent = t("gc_running");
    await nextPaint();
    const batch = form.sample_kind.value === "batch" ? form.batch.value : "";
    const result = wasm.gradient_check(
      form.input_dim.value, form.hidden_dims.value, form.output_dim.value,
      form.loss.value, batch, form.seed.value,
    );
    button.disabled = false;
    if (!result.ok) {
      showFieldError(form, result);
      summary.textContent = "";
      return;
    }
    lastResult = result;
    render(result);
  });

  function render(result) {
    const passed = result.rows.filter((r) => r.passed).length;
    summary.textContent = t("gc_summary", [
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

  onLanguageChange(() => lastResult && render(lastResult));
  button.disabled = false;
}
