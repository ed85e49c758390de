// @ts-check
// The page's language: which one is chosen (?lang=, then the last choice, then the
// browser's), t() to look a string up and fill its arguments, and the toggle. The strings
// themselves are one file per language in i18n/ (en.js, zh.js); Rust's problem and hint
// codes (src/problem.rs, Problem::new("code", ...)) are keys there too.
import { en } from "./i18n/en.js";
import { zh } from "./i18n/zh.js";

/** @type {Record<"en" | "zh", Record<string, string>>} */
const STRINGS = { en, zh };

const STORAGE_KEY = "backprop-lab-lang";
let current = pickLanguage();

function pickLanguage() {
  // Any case and region: zh, ZH, zh-CN, zh-Hant, en-GB.
  const fromUrl = new URLSearchParams(location.search).get("lang")?.toLowerCase().split(/[-_]/)[0];
  if (fromUrl in STRINGS) return fromUrl;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved in STRINGS) return saved;
  } catch (_) { /* storage may be blocked */ }
  const preferred = navigator.languages || [navigator.language || "en"];
  return preferred.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

/**
 * The string for `key` in the current language, with {0}, {1} … filled from `args`
 * (whole numbers of 4 to 15 digits grouped, as `formatCount` writes them);
 * {0|epoch|epochs} is the first word when args[0] is 1, else the second.
 * @param {string} key
 * @param {ReadonlyArray<unknown>} [args]
 * @returns {string}
 */
export function t(key, args = []) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  const fill = (value) => {
    const text = String(value);
    return /^\d{4,15}$/.test(text) ? formatCount(Number(text)) : text;
  };
  return template
    .replace(/\{(\d+)\|([^|}]*)\|([^}]*)\}/g, (m, i, one, many) => (Number(args[i]) === 1 ? one : many))
    .replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? fill(args[i]) : m));
}

/**
 * Whether `key` is a string the page has (some have variants, e.g. per activation).
 * @param {string} key
 */
export function hasString(key) {
  return key in STRINGS.en;
}

/** The locale the page writes figures in: its own language's, not the browser's. */
export function locale() {
  return current === "zh" ? "zh-CN" : "en-US";
}

/**
 * A count rounded and grouped in the page's language: 60,000.
 * @param {number} n
 */
export function formatCount(n) {
  return Math.round(n).toLocaleString(locale());
}

/** @type {Array<() => void>} */
const listeners = [];
/**
 * Call `fn` now and whenever the language changes.
 * @param {() => void} fn
 */
export function onLanguageChange(fn) {
  listeners.push(fn);
  fn();
}

function applyStatic() {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-i18n]"))) el.textContent = t(el.dataset.i18n);
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-i18n-label]"))) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.lang = current === "zh" ? "en" : "zh-CN"; // it names the other language, in that language
  document.title = t("title");
}

/** @param {"en" | "zh"} lang */
export function setLanguage(lang) {
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch (_) { /* ignore */ }
  applyStatic();
  listeners.forEach((fn) => fn());
}

export function initLanguage() {
  applyStatic();
  document.getElementById("lang-toggle").addEventListener("click", () => setLanguage(current === "en" ? "zh" : "en"));
}
