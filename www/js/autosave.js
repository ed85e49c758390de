// @ts-check
// Nothing lost: a run is saved in IndexedDB at every epoch end (the last one too) and on Pause (its settings,
// its rows, its weights and optimiser state as a safetensors file, and where in the epoch
// it paused), and after a reload the page offers to go on from there, exactly as if it had
// never stopped. Rust makes and reads the save.
import { t, onLanguageChange } from "./i18n.js";
import { runName } from "./runs.js";
import { EPOCH_DONE, MODEL_MOVED, RUN_STARTED, TRAIN_STATE, on } from "./events.js";

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

/**
 * @param {Lab} lab
 * @param {import("./train.js").Training} training
 */
export function initAutosave(lab, training) {
  const banner = /** @type {HTMLElement} */ (document.querySelector('[data-testid="resume-banner"]'));
  const text = document.getElementById("resume-text");
  const note = /** @type {HTMLElement} */ (document.querySelector('[data-testid="autosave-note"]'));
  let current = null; // {id, config} of the run being saved
  let saved = null; // what the banner offers
  let unsaved = false; // batches trained since the last save
  let blocked = null; // why the browser refused a save, once it has
  let savedPaused = false; // the last save was made on Pause

  const waitsForChoice = () => Boolean(saved?.paused) && saved.epochs < Number(saved.config.epochs);
  const continueButton = /** @type {HTMLButtonElement} */ (banner.querySelector('[data-testid="resume-continue"]'));
  function showBanner() {
    banner.hidden = !saved;
    if (!saved) return;
    const finished = saved.epochs >= Number(saved.config.epochs);
    // Named from its settings, in the page's language now (not the one it was saved in).
    const name = runName(saved.config);
    text.textContent = finished ? t("as_offer_finished", [saved.epochs, name])
      : saved.batch ? t("as_offer_paused", [saved.batch, saved.epochs + 1, saved.config.epochs, name])
        : t("as_offer", [saved.epochs, saved.config.epochs, name]);
    // A link that would start a new run says so, and waits for the choice.
    if (training.autostartWaits() && waitsForChoice()) text.textContent += ` ${t("as_link_waits")}`;
    continueButton.dataset.i18n = finished ? "as_restore" : "as_continue";
    continueButton.textContent = t(continueButton.dataset.i18n);
  }

  on(RUN_STARTED, (detail) => {
    // A lesson's short run is not offered after a reload: the student's own run stays saved.
    current = detail.continued || detail.brief ? null : { id: detail.id, config: detail.config };
    saved = null;
    showBanner();
  });
  on(MODEL_MOVED, () => { unsaved = true; });
  // In a task of its own: the epoch's end already has the chart, table and matrix to do.
  // At an epoch's end (the last one too: a finished run's model is kept to be restored),
  // and when paused, as the run stands inside its epoch.
  on(EPOCH_DONE, () => setTimeout(() => saveRun(false)));
  // Stopped after a pause: saved again, no longer as a paused run.
  on(TRAIN_STATE, (detail) => { if (detail === "paused" || (detail === "done" && savedPaused)) saveRun(detail === "paused"); });
  /** @param {boolean} paused whether the student paused it (an autostart link then asks) */
  async function saveRun(paused) {
    if (!current || blocked) return;
    const snapshot = lab.snapshot(); // the run as it paused, or as its last epoch ended: kept by Rust
    if (!snapshot && (paused || !savedPaused)) return;
    unsaved = false;
    try {
      // Nothing new to keep after a Stop: the saved run stays, no longer marked as paused.
      const record = snapshot ? { ...current, epochs: snapshot.epochs, batch: snapshot.batch, weights: snapshot.weights,
        rows: snapshot.rows, within: snapshot.within } : await load();
      if (record) await save({ ...record, paused, savedAt: Date.now() });
      savedPaused = paused;
    } catch (error) {
      blocked = error?.name ?? String(error); // full, or private mode: one note, and training goes on
      note.hidden = false;
      note.textContent = t("as_blocked", [blocked]);
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
    training.autostart("continued");
    training.resumeRun(run);
  });
  banner.querySelector('[data-testid="resume-discard"]').addEventListener("click", async () => {
    saved = null;
    showBanner();
    await forget().catch(() => {});
    training.autostart("discarded");
  });

  window.addEventListener("data-ready", async () => {
    try {
      const found = await load();
      if (found && found.epochs <= Number(found.config.epochs) && training.state() === "ready") {
        saved = found;
        showBanner();
      }
    } catch (_) { /* no storage: nothing was saved */ }
    // A run the student paused is worth the wait; one that ended or was stopped is not.
    training.autostart(waitsForChoice() ? "saved" : "none");
  });
  onLanguageChange(() => {
    showBanner();
    if (!note.hidden && blocked) note.textContent = t("as_blocked", [blocked]);
  });
}
