// Nothing lost: a run is saved in IndexedDB at every epoch end (its settings, its rows,
// its weights as a safetensors file), and after a reload the page offers to go on from
// there, exactly as if it had never stopped. Rust makes and reads the save.
import { t, onLanguageChange } from "./i18n.js";

const DB = "backprop-lab";
const STORE = "runs";
const KEY = "current";

function request(mode, act) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction(STORE, mode);
      const req = act(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(req?.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error ?? req?.error); };
    };
  });
}
const load = () => request("readonly", (s) => s.get(KEY));
const save = (value) => request("readwrite", (s) => s.put(value, KEY));
const forget = () => request("readwrite", (s) => s.delete(KEY));

export function initAutosave(lab, training) {
  const banner = document.querySelector('[data-testid="resume-banner"]');
  const text = document.getElementById("resume-text");
  const note = document.querySelector('[data-testid="autosave-note"]');
  let current = null; // {id, config} of the run being saved
  let saved = null; // what the banner offers
  let unsaved = false; // batches trained since the last save
  let blocked = false;

  function showBanner() {
    banner.hidden = !saved;
    if (saved) text.textContent = t("as_offer", [saved.epochs, saved.config.epochs, saved.name ?? ""]);
  }

  window.addEventListener("run-started", (e) => {
    const c = e.detail.config;
    current = e.detail.continued ? null : { id: e.detail.id, config: c, name: `lr ${c.lr} · ${c.hidden || "—"}` };
    saved = null;
    showBanner();
  });
  window.addEventListener("model-moved", () => { unsaved = true; });
  // In a task of its own: the epoch's end already has the chart, table and matrix to do.
  window.addEventListener("epoch-done", (e) => setTimeout(() => saveEpoch(e.detail.epoch)));
  async function saveEpoch(epoch) {
    if (!current || blocked) return;
    const snapshot = lab.snapshot(); // the weights as that epoch ended, kept by Rust
    if (!snapshot) return;
    unsaved = false;
    const finished = epoch >= Number(current.config.epochs);
    try {
      // A finished run has nothing to go on with: it stays in Runs compared.
      if (finished) await forget();
      else await save({ ...current, epochs: snapshot.epochs, weights: snapshot.weights, rows: snapshot.rows, savedAt: Date.now() });
    } catch (error) {
      blocked = true; // full, or private mode: one note, and training goes on
      note.hidden = false;
      note.textContent = t("as_blocked", [error?.name ?? String(error)]);
    }
  }
  // Leaving mid-epoch loses the batches since the last save: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (training.state() === "training" && unsaved) event.preventDefault();
  });

  banner.querySelector('[data-testid="resume-continue"]').addEventListener("click", () => {
    const run = saved;
    saved = null;
    showBanner();
    training.resumeRun(run);
  });
  banner.querySelector('[data-testid="resume-discard"]').addEventListener("click", async () => {
    saved = null;
    showBanner();
    await forget().catch(() => {});
  });

  window.addEventListener("data-ready", async () => {
    try {
      const found = await load();
      if (found && found.epochs < Number(found.config.epochs) && training.state() === "ready") {
        saved = found;
        showBanner();
      }
    } catch (_) { /* no storage: nothing was saved */ }
  });
  onLanguageChange(() => {
    showBanner();
    if (!note.hidden && blocked) note.textContent = t("as_blocked", [""]);
  });
}
