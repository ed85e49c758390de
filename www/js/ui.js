// @ts-check
// Small DOM helpers shared by the sections: field errors that follow the language,
// and yielding to the browser so a status line paints before slow work.
import { t, onLanguageChange } from "./i18n.js";

/**
 * A refusal from Rust (src/problem.rs): which field, the string's key, its arguments.
 * @typedef {{ ok?: false, field?: string, code: string, args: Array<string | number> }} Refusal
 */

/**
 * Show a Rust refusal `{field, code, args}` under its field in `form`.
 * @param {HTMLElement} form
 * @param {Refusal} result
 */
export function showFieldError(form, result) {
  const el = /** @type {HTMLElement | null} */ (form.querySelector(`[data-error-for="${result.field}"]`));
  if (!el) throw new Error(`no error slot for field ${result.field}`);
  el.dataset.code = result.code;
  el.dataset.args = JSON.stringify(result.args);
  el.textContent = t(result.code, result.args);
  el.closest("label")?.classList.add("invalid");
}

/**
 * Clear the messages under `form`'s fields, or under the one named `field`.
 * @param {HTMLElement} form
 * @param {string | null} [field]
 */
export function clearFieldErrors(form, field = null) {
  const selector = field ? `.field-error[data-error-for="${field}"]` : ".field-error";
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (form.querySelectorAll(selector))) {
    delete el.dataset.code;
    el.textContent = "";
    el.closest("label")?.classList.remove("invalid");
  }
}

onLanguageChange(() => {
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".field-error[data-code]"))) {
    el.textContent = t(el.dataset.code, JSON.parse(el.dataset.args));
  }
});

/**
 * Resolve after the browser has had a chance to paint.
 * @returns {Promise<void>}
 */
export function nextPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * A number as the table shows it: 3 significant digits, exponent form when tiny.
 * @param {number} x
 */
export function formatNumber(x) {
  if (!Number.isFinite(x) || x === 0) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(4);
}

/**
 * `fn` wrapped so that calls run it on an animation frame, at most once every
 * `everyMs`: streaming updates repaint a few times a second, not once per batch.
 * @param {() => void} fn
 * @param {number} everyMs
 * @returns {() => void}
 */
export function throttledPaint(fn, everyMs) {
  let scheduled = false;
  let last = -Infinity;
  return function request() {
    if (scheduled) return;
    scheduled = true;
    const wait = Math.max(0, last + everyMs - performance.now());
    setTimeout(() => requestAnimationFrame((now) => {
      scheduled = false;
      last = now;
      fn();
    }), wait);
  };
}

/**
 * Offer `data` (a Blob, or a data: URL) as a download named `filename`.
 * @param {Blob | string} data
 * @param {string} filename
 */
export function saveFile(data, filename) {
  const url = typeof data === "string" ? data : URL.createObjectURL(data);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  if (url !== data) setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Scroll `el` into view, smoothly unless the reader asked for less motion.
 * @param {Element} el @param {ScrollLogicalPosition} [block]
 */
export function scrollToView(el, block = "start") {
  const reduce = matchMedia("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block });
}
