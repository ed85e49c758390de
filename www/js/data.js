// @ts-check
// Fetches the four MNIST files from the page's own host (or ?data=<base URL>) with a
// progress bar each, and hands the bytes to Rust, which decompresses and validates them.
import { workerInCharge } from "./offline.js";
import { t, onLanguageChange } from "./i18n.js";
import { nextPaint } from "./ui.js";

export const FILES = [
  { kind: "train-images", name: "train-images-idx3-ubyte.gz" },
  { kind: "train-labels", name: "train-labels-idx1-ubyte.gz" },
  { kind: "test-images", name: "t10k-images-idx3-ubyte.gz" },
  { kind: "test-labels", name: "t10k-labels-idx1-ubyte.gz" },
];

/** One progress row per file in `#file-rows` (made on first use), by kind. */
function fileRows() {
  const container = document.getElementById("file-rows");
  if (!container.childElementCount) {
    for (const { kind, name } of FILES) {
      const row = document.createElement("div");
      row.className = "file-progress";
      row.dataset.file = kind;
      const label = Object.assign(document.createElement("span"), { className: "file-name", id: `file-${kind}`, textContent: name });
      const bar = Object.assign(document.createElement("progress"), { max: 1, value: 0 });
      bar.setAttribute("aria-labelledby", label.id);
      row.append(label, bar, Object.assign(document.createElement("span"), { className: "file-bytes" }));
      container.append(row);
    }
  }
  const rows = /** @type {HTMLElement[]} */ ([...container.children]);
  return Object.fromEntries(rows.map((row) => [row.dataset.file, row]));
}

/**
 * Narrow the page's connections to its own origin and the data's: the built policy allows
 * any http(s) origin, as ?data= may name one; a second policy only ever narrows the first.
 */
function allowConnectionsTo(base) {
  if (document.querySelector("meta[data-connections]")) return;
  const meta = document.createElement("meta");
  meta.httpEquiv = "Content-Security-Policy";
  meta.content = `connect-src 'self' ${base.origin === location.origin ? "" : base.origin}`.trim();
  meta.dataset.connections = base.origin;
  document.head.append(meta);
}

/** Where the data lives: `?data=<base URL>` (http or https only) or `data/` next to the page. */
export function dataBase() {
  const custom = new URLSearchParams(location.search).get("data") || null; // ?data= empty: the page's own
  let base;
  try {
    base = new URL(custom ?? "data/", location.href);
  } catch (_) {
    throw new DataError("data_bad_url", [custom]);
  }
  if (!["http:", "https:"].includes(base.protocol)) throw new DataError("data_bad_url", [custom]);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return base;
}

/** Whether downloading again could help: not for a file of the wrong kind or an address that cannot work. */
export function canRetry(error) {
  return !["data_bad_url", "data_bad_magic", "data_bad_dims", "data_bad_label", "data_count_mismatch"].includes(error?.code);
}

class DataError extends Error {
  constructor(code, args) {
    super(code);
    this.code = code;
    this.args = args;
  }
}

function showBytes(row, loaded, total) {
  const unit = total || loaded;
  const size = (n) => unit >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : unit >= 1024 ? `${(n / 1024).toFixed(0)} KB` : `${n} B`;
  const bar = row.querySelector("progress");
  const label = row.querySelector(".file-bytes");
  if (total > 0 && loaded <= total) {
    bar.max = total;
    bar.value = loaded;
    label.textContent = `${size(loaded)} / ${size(total)} · ${Math.floor((100 * loaded) / total)}%`;
  } else {
    bar.removeAttribute("value"); // indeterminate: the server did not say the size
    label.textContent = size(loaded);
  }
}

async function download(file, base, row) {
  const url = new URL(file.name, base);
  let response;
  try {
    response = await fetch(url, { cache: "no-cache" });
  } catch (e) {
    // From another host, the usual cause is that it does not allow this page to read it.
    if (url.origin !== location.origin) throw new DataError("data_cross_origin", [file.name, url.origin, e.message]);
    throw new DataError("data_network", [file.name, e.message]);
  }
  if (!response.ok) throw new DataError("data_http", [file.name, response.status, url.href]);
  // With Content-Encoding the body arrives unpacked and Content-Length is not its size.
  const total = response.headers.get("content-encoding") ? 0 : Number(response.headers.get("content-length") ?? 0);
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch (e) {
      throw new DataError("data_network", [file.name, e.message]);
    }
    if (step.done) break;
    chunks.push(step.value);
    loaded += step.value.length;
    showBytes(row, loaded, total);
  }
  showBytes(row, loaded, loaded);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** What a first visit downloads, as the release build measured it, so a teacher can warn
 *  students on phone data; hidden where the build did not say (the dev build). */
function showDownloadNote() {
  const bytes = Number(document.querySelector('meta[name="first-visit-bytes"]')?.getAttribute("content"));
  const note = document.getElementById("download-note");
  if (!(bytes > 0) || !note.hidden) return;
  note.hidden = false;
  onLanguageChange(() => { note.textContent = t("data_first_visit", [`${(bytes / 1048576).toFixed(1)} MB`]); });
}

/**
 * Download and parse all four files. `onStatus(key, args)` reports what is happening.
 * Resolves to `{train, test}` sizes; rejects with `{code, args}` for the page to show.
 */
export async function loadMnist(lab, onStatus) {
  const base = dataBase();
  allowConnectionsTo(base);
  const rows = fileRows();
  showDownloadNote();
  onStatus("state_loading", []);
  await workerInCharge();
  const downloads = await Promise.all(FILES.map((f) => download(f, base, rows[f.kind])));
  for (const [i, file] of FILES.entries()) {
    onStatus("state_parsing", [file.name]);
    await nextPaint();
    const result = lab.load_file(file.kind, file.name, downloads[i]);
    downloads[i] = null;
    if (!result.ok) throw new DataError(result.code, result.args);
  }
  const sizes = lab.finish_loading(FILES.map((f) => f.name));
  if (!sizes.ok) throw new DataError(sizes.code, sizes.args);
  return sizes;
}

export function describeDataError(error) {
  return error instanceof DataError ? t(error.code, error.args) : t("data_network", ["MNIST", error?.message ?? error]);
}
