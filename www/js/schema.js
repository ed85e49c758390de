// @ts-check
// The page's choices as Rust describes them once (src/schema.rs): each form's fields, their
// options and defaults, which choice shows a field, and the presets. The forms, the URL
// keys, the share links and the run names are built from it; index.html holds none of it.
import { t } from "./i18n.js";

/** @type {Schema | null} */
let schema = null;

/** @param {WasmBindings} wasm */
export function loadSchema(wasm) {
  schema = wasm.schema();
}

/** @typedef {"train" | "check"} FormKind */

/** @param {FormKind} form */
export function fields(form) {
  return schema[form];
}

/** @param {FormKind} form @param {string} name */
export function field(form, name) {
  return schema[form].find((f) => f.name === name);
}

/** The presets, in the order the page lists them. */
export function presets() {
  return schema.presets;
}

/**
 * Whether a field is shown and read with these settings (momentum for the optimisers that
 * read it, the check's batch for a batch).
 * @param {FormKind} form @param {string} name @param {Record<string, string>} values
 */
export function isRead(form, name, values) {
  const shown = field(form, name)?.shownWhen;
  return !shown || shown.values.includes(values[shown.field] ?? field(form, shown.field)?.default);
}

/**
 * The choice `text` names in a choice field: by its value or its label, in any case
 * ("ReLU", "relu"); null for none.
 * @param {FormKind} form @param {string} name @param {string} text
 */
export function choiceValue(form, name, text) {
  const wanted = String(text).trim().toLowerCase();
  const choice = field(form, name)?.choices.find((c) => c.value.toLowerCase() === wanted || c.label.toLowerCase() === wanted);
  return choice ? choice.value : null;
}

/**
 * A choice's text in the page's language: "SGD + momentum", "ReLU".
 * @param {FormKind} form @param {string} name @param {string} value
 */
export function choiceText(form, name, value) {
  const choice = field(form, name)?.choices.find((c) => c.value === value);
  if (!choice) return value;
  return choice.i18n ? t(choice.i18n) : choice.label;
}

/**
 * Put each choice field's options into `select`, and each field's default into the form.
 * An option whose text is translated carries its string key in data-i18n.
 * @param {HTMLFormElement} formEl @param {FormKind} form
 */
export function buildForm(formEl, form) {
  for (const f of schema[form]) {
    const control = /** @type {HTMLInputElement | HTMLSelectElement | undefined} */ (formEl.elements.namedItem(f.name));
    if (!control) continue;
    if (control instanceof HTMLSelectElement) fillOptions(control, f);
    control.value = f.default;
    if (f.kind === "count" && f.optional && control instanceof HTMLInputElement) control.placeholder = String(f.max);
  }
}

/**
 * A select's options from a field's choices.
 * @param {HTMLSelectElement} select @param {SchemaField} f
 */
export function fillOptions(select, f) {
  select.replaceChildren(...f.choices.map((c) => {
    const option = document.createElement("option");
    option.value = c.value;
    option.textContent = c.i18n ? t(c.i18n) : c.label;
    if (c.i18n) option.dataset.i18n = c.i18n; // translated again when the language changes
    return option;
  }));
}
