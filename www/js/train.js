// @ts-check
// Section 2: loading MNIST and training. Rust owns the loop, the numbers and the
// validation; this file moves data between the form, the Lab and the screen.
import { t, onLanguageChange, formatCount } from "./i18n.js";
import { showFieldError, clearFieldErrors, formatNumber, throttledPaint, nextPaint, saveFile, scrollToView } from "./ui.js";
import { loadMnist, describeDataError, canRetry } from "./data.js";
import { LossChart, FlowChart } from "./chart.js";
import { runName } from "./runs.js";
import { fields, field, presets, choiceValue, isRead } from "./schema.js";
import { DATA_READY, EPOCH_DONE, GRAD_FLOW, MODEL_CHANGED, MODEL_EVALUATED, MODEL_MOVED, MODEL_SETTLED, RUN_STARTED, TRAIN_STATE, emit } from "./events.js";


/**
 * Section 2's form, with its fields by name. (`form.hidden` is the field, not the
 * attribute: a form's named fields come before its properties.)
 * @typedef {HTMLFormElement & {
 *   hidden: HTMLInputElement, lr: HTMLInputElement, batch: HTMLInputElement,
 *   epochs: HTMLInputElement, seed: HTMLInputElement, train_limit: HTMLInputElement,
 *   bug: HTMLInputElement, act: HTMLSelectElement, opt: HTMLSelectElement,
 *   momentum: HTMLInputElement, wd: HTMLInputElement, beta1: HTMLInputElement, beta2: HTMLInputElement,
 * }} TrainForm
 */

/** @typedef {ReturnType<typeof initTraining>} Training */

/**
 * @param {WasmBindings} wasm
 * @param {Lab} lab
 */
export function initTraining(wasm, lab) {
  const form = /** @type {TrainForm} */ (document.getElementById("train-form"));
  const statusEl = document.getElementById("train-status");
  const epochBar = /** @type {HTMLProgressElement} */ (document.getElementById("epoch-progress"));
  const trainError = document.getElementById("train-error");
  const bugBanner = document.getElementById("train-bug");
  const presetNote = document.getElementById("preset-note");
  const hiddenNote = document.getElementById("hidden-note-train");
  const announcer = document.getElementById("train-announce");
  const dataError = document.getElementById("data-error");
  const retry = /** @type {HTMLButtonElement} */ (document.getElementById("data-retry"));
  const table = /** @type {HTMLTableSectionElement} */ (document.querySelector('[data-testid="epoch-table"] tbody'));
  const csvButton = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="download-csv"]'));
  const chartButton = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="download-chart"]'));
  const buttons = {
    start: /** @type {HTMLButtonElement} */ (document.getElementById("btn-start")),
    pause: /** @type {HTMLButtonElement} */ (document.getElementById("btn-pause")),
    resume: /** @type {HTMLButtonElement} */ (document.getElementById("btn-resume")),
    stop: /** @type {HTMLButtonElement} */ (document.getElementById("btn-stop")),
    reset: /** @type {HTMLButtonElement} */ (document.getElementById("btn-reset")),
    continue: /** @type {HTMLButtonElement} */ (document.getElementById("btn-continue")),
  };
  const chart = new LossChart(document.getElementById("loss-chart"));
  const flowChart = new FlowChart(document.getElementById("flow-chart"),
    /** @type {HTMLTableElement} */ (document.querySelector('[data-testid="grad-flow-table"]')).tBodies[0]);
  let status = { key: "state_idle", args: [] };
  let scoring = false;
  let movedSinceEpoch = false;
  let continued = false; // the last run went on from the model before it
  let running = null; // the promise of lab.run while the loop is alive
  let lastProgress = null;

  const FIELDS = fields("train").map((f) => f.name);
  /** @returns {Record<string, string>} */
  const values = () => Object.fromEntries(FIELDS.map((name) => [name, form[name].value]));
  // Only the fields the chosen optimiser reads are shown (the schema says which).
  const syncShownFields = () => {
    const now = values();
    for (const name of FIELDS) form[name].closest("label")?.toggleAttribute("hidden", !isRead("train", name, now));
  };
  form.opt.addEventListener("change", syncShownFields);
  /**
   * Put settings into the form, a choice named by its value or its label in any case
   * ("ReLU"); every one that does not fit is refused beside its field, all at once.
   * Returns whether all fitted.
   * @param {Record<string, string>} settings
   */
  function fill(settings) {
    const given = FIELDS.filter((name) => name in settings && name !== "bug" && !lockedFields.has(name));
    for (const name of given) {
      const choice = field("train", name).kind === "choice";
      const value = choice ? choiceValue("train", name, settings[name]) : settings[name];
      if (value !== null) form[name].value = value;
    }
    syncShownFields();
    const typed = { ...values(), ...Object.fromEntries(given.map((name) => [name, String(settings[name])])) };
    const refused = wasm.train_problems(typed).filter((p) => given.includes(p.field));
    refused.forEach((p) => showFieldError(form, p));
    return refused.length === 0;
  }

  // Settings from the URL, so a teacher can share a configuration; a link with a value the
  // page cannot take trains nothing by itself.
  const params = new URLSearchParams(location.search);
  /** The fields a teacher's link locked (`lock=1`): shown, not editable. */
  const lockedFields = new Set();
  const fromLink = FIELDS.filter((name) => params.has(name) && name !== "bug");
  const linkFits = fill(Object.fromEntries(fromLink.map((name) => [name, params.get(name)])));
  /** The fields' labels as the form shows them, in the page's language. */
  const labels = (names) => names.map((name) => form[name].closest("label")?.querySelector("span")?.textContent ?? name)
    .join(t("list_separator"));
  if (params.get("lock") === "1" && linkFits && fromLink.length) {
    fromLink.forEach((name) => lockedFields.add(name));
    const note = document.getElementById("lock-note");
    note.hidden = false;
    onLanguageChange(() => { note.textContent = t("lock_note", [labels(fromLink)]); });
  }
  // A link with values the page cannot take says so where a student looks first.
  if (!linkFits) {
    const note = document.getElementById("link-refused");
    note.hidden = false;
    onLanguageChange(() => { note.textContent = t("link_refused", [labels(fromLink.filter((n) => form[n].closest("label")?.classList.contains("invalid")))]); });
  }
  /** Whether a preset would change a locked field. */
  const presetClashes = (name) => {
    const values = presets().find((p) => p.name === name)?.values ?? {};
    return [...lockedFields].some((field) => field in values && values[field] !== /** @type {HTMLInputElement} */ (form.elements.namedItem(field)).value);
  };

  function setState(state, key, args = []) {
    statusEl.dataset.state = state;
    status = { key, args };
    statusEl.textContent = t(key, args);
    if (["ready", "paused", "done"].includes(state)) announcer.textContent = statusEl.textContent;
    const enabled = ({
      ready: ["start", "continue"], training: ["pause", "stop"], paused: ["resume", "stop", "reset"],
      done: ["start", "reset", "continue"], error: ["start", "reset", "continue"],
    }[state] ?? []).filter((name) => name !== "continue" || (lab.has_model() && dataError.hidden))
      .filter((name) => !scoring || !["start", "continue", "reset"].includes(name)); // a loaded model is being scored
    const hadFocus = /** @type {Element[]} */ (Object.values(buttons)).includes(document.activeElement) || form.contains(document.activeElement);
    for (const [name, button] of Object.entries(buttons)) button.disabled = !enabled.includes(name);
    const locked = !["ready", "done", "error"].includes(state);
    for (const input of /** @type {HTMLCollectionOf<FormControl>} */ (form.elements)) {
      // A locked field stays readable and focusable: read-only where it can be, else disabled.
      const fixed = lockedFields.has(/** @type {HTMLInputElement} */ (input).name);
      if (input instanceof HTMLInputElement) input.readOnly = fixed;
      input.disabled = locked || (fixed && !(input instanceof HTMLInputElement));
    }
    syncQuickTrain();
    /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll("[data-preset]")).forEach((b) => { b.disabled = locked || presetClashes(b.dataset.preset); });
    const hasRows = table.rows.length > 0;
    csvButton.disabled = !hasRows;
    chartButton.disabled = chart.data[0].length === 0;
    // A disabled button or field drops the focus to <body>: hand it to what comes next.
    const next = { training: "pause", paused: "resume" }[state] ?? (continued ? "continue" : "start");
    const lost = document.activeElement === document.body || /** @type {FormControl | null} */ (document.activeElement)?.disabled;
    if (hadFocus && lost && !buttons[next].disabled) buttons[next].focus();
    if (state === "training") document.getElementById("link-refused").hidden = true; // fixed, since it runs
    emit(TRAIN_STATE, state);
  }
  // The pad's one-click training starts only when Start could, and says why not.
  function syncQuickTrain() {
    const quick = /** @type {HTMLButtonElement} */ (document.getElementById("quick-train"));
    quick.disabled = buttons.start.disabled;
    quick.title = quick.disabled ? t("dr_quick_wait") : "";
  }
  onLanguageChange(() => {
    statusEl.textContent = t(status.key, status.args);
    syncQuickTrain();
    buttons.resume.title = t("btn_resume_title");
    buttons.continue.title = t("btn_continue_title");
    if (!presetNote.hidden) presetNote.textContent = t("deep_sigmoid_note");
    if (!hiddenNote.hidden) hiddenNote.textContent = t(hiddenNote.dataset.key);
  });

  // The errors on show keep their code and values, and follow the language.
  let shownTrainError = null;
  let shownDataError = null;
  function showTrainError(result) {
    shownTrainError = result;
    trainError.textContent = describeTrainError(result);
    trainError.hidden = false;
  }
  // A divergence under a bug names the bug, in the page's language.
  const describeTrainError = (r) => t(r.code, r.code === "train_diverged_bug" ? [...r.args.slice(0, 3), t(`bug_${r.args[3]}_name`)] : r.args);
  onLanguageChange(() => {
    if (shownTrainError && !trainError.hidden) trainError.textContent = describeTrainError(shownTrainError);
    if (shownDataError && !dataError.hidden) dataError.textContent = describeDataError(shownDataError);
  });

  function onProgress(p) {
    if (p.ok === false) return; // reported when run resolves
    lastProgress = p;
    statusEl.dataset.phase = p.kind; // batch, evaluating, epoch: for tests and assistive tools
    announceModelChange(p.kind === "epoch");
    if (p.epoch !== undefined) statusEl.dataset.epoch = String(p.epoch);
    if (p.kind === "batch") chart.addBatch(p);
    if (p.kind === "batch" && !movedSinceEpoch) {
      movedSinceEpoch = true;
      emit(MODEL_MOVED);
    }
    if (p.flow) {
      flowChart.add(p.flow);
      emit(GRAD_FLOW, p.flow);
    }
    if (p.kind === "batch" || p.kind === "evaluating") scheduleStatus(p);
    if (p.kind === "epoch") {
      chart.addEpoch(p);
      addEpochRow(p);
      movedSinceEpoch = false;
      emit(EPOCH_DONE, p);
      announcer.textContent = t("announce_epoch", [p.epoch, p.testAccuracy.toFixed(2)]);
    }
  }

  // The drawing pad re-reads its digit when the weights change, at most 4 times a second.
  let lastAnnounce = 0;
  function announceModelChange(force = false) {
    const now = performance.now();
    if (!force && now - lastAnnounce < 250) return;
    lastAnnounce = now;
    emit(MODEL_CHANGED);
  }

  // The status line and epoch bar repaint on an animation frame, ten times a second.
  let latest = null;
  const repaintStatus = throttledPaint(() => {
    const q = latest;
    if (statusEl.dataset.state !== "training") return;
    if (q.kind === "batch") {
      epochBar.max = q.batches;
      epochBar.value = q.batch;
      setStatusText("state_training", [q.epoch, q.epochs, q.batch, q.batches,
        formatNumber(q.smoothedLoss), Math.round(q.samplesPerS), q.elapsedS.toFixed(1)]);
    } else {
      setStatusText("state_evaluating", [q.epoch, q.epochs, q.done, q.total]);
    }
  }, 100);
  function scheduleStatus(p) {
    latest = p;
    repaintStatus();
  }

  function setStatusText(key, args) {
    status = { key, args };
    statusEl.textContent = t(key, args);
  }

  function addEpochRow(p) {
    const tr = document.createElement("tr");
    tr.dataset.epoch = p.epoch;
    tr.dataset.avgLoss = p.avgLoss;
    tr.dataset.testAccuracy = p.testAccuracy;
    tr.dataset.seconds = p.seconds;
    for (const text of [p.epoch, p.avgLoss.toFixed(4), `${p.testAccuracy.toFixed(2)}%`, p.testLoss.toFixed(4),
      p.seconds.toFixed(2), formatCount(p.epochSamplesPerS)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    table.append(tr);
    csvButton.disabled = false;
  }

  function configure() {
    clearFieldErrors(form);
    trainError.hidden = true;
    // The status pointed at that message: it is gone, so is the pointer.
    if (statusEl.dataset.state === "error" && dataError.hidden) setState("ready", "state_ready", readySizes);
    const result = lab.configure(values());
    if (!result.ok) {
      if (form.querySelector(`[data-error-for="${result.field}"]`)) showFieldError(form, result);
      else showTrainError(result);
      return false;
    }
    // The last run's curve stays on the chart beside this one.
    chart.clear({ keepPrevious: true, label: runLabel() });
    flowChart.clear();
    showBugBanner();
    table.replaceChildren();
    epochBar.value = 0;
    statusEl.dataset.epoch = "0";
    lastProgress = null;
    announceModelChange(true);
    return true;
  }

  /** A new run for the runs list: its settings as the form holds them. */
  function startRun(continued = false, rows = []) {
    const config = values();
    const id = Date.now().toString(36);
    emit(RUN_STARTED, { config, continued, id, rows, brief: briefBefore !== null });
  }
  /** The run's name on the chart once the next run keeps it: as the runs list names it. */
  function runLabel() {
    const config = values();
    return { tag: config.bug ? `bug_${config.bug}_name` : "chart_run_right", text: () => runName(config) };
  }
  function showBugBanner() {
    const bug = form.bug.value;
    bugBanner.hidden = !bug;
    bugBanner.dataset.bug = bug;
    const compared = chart.container.dataset.previousRun !== "";
    if (bug) bugBanner.textContent = t(compared ? "bug_training" : "bug_training_alone", [t(`bug_${bug}_name`)]);
  }
  onLanguageChange(showBugBanner);

  async function run() {
    setState("training", "state_training", [statusEl.dataset.epoch, form.epochs.value, 0, "…", "…", "…", "…"]);
    running = lab.run(onProgress);
    let outcome;
    try {
      outcome = await running;
    } catch (e) {
      outcome = { ok: false, code: "panic", args: [e?.message ?? e] };
    }
    running = null;
    announceModelChange(true);
    emit(MODEL_SETTLED);
    const epochsDone = table.rows.length;
    if (outcome === "paused") {
      setState("paused", "state_paused", [statusEl.dataset.epoch, form.epochs.value]);
    } else if (outcome === "stopped") {
      setState("done", "state_stopped", [epochsDone]);
    } else if (outcome === "done" && epochsDone === 0) {
      setState("done", "state_stopped", [0]);
    } else if (outcome === "done") {
      epochBar.value = epochBar.max; // the last batches may not have been painted
      const accuracy = Number(table.rows[epochsDone - 1].dataset.testAccuracy).toFixed(2);
      setState("done", "state_done", [epochsDone, accuracy, lastProgress.elapsedS.toFixed(1)]);
    } else {
      showTrainError(outcome);
      setState("error", "state_error");
    }
    if (outcome !== "paused") restoreBrief();
  }

  let startingWithBug = false;
  /** The form's values before a lesson's brief run, restored when the run ends. */
  let briefBefore = null;
  buttons.start.addEventListener("click", async () => {
    hiddenNote.hidden = true;
    // Start trains the right backward pass; only "Train with this bug" breaks it.
    if (!startingWithBug) form.bug.value = "";
    startingWithBug = false;
    continued = false;
    if (!configure()) return;
    startRun();
    // A fresh model and chart in this task; the first batch in a later one, so neither
    // holds the page for long.
    setState("training", "state_training", [0, form.epochs.value, 0, "…", "…", "…", "…"]);
    await nextPaint();
    // Stopped before the first batch: nothing to run. (A Pause is kept by the Lab.)
    if (statusEl.dataset.state === "training" && !running) run();
  });
  // Enter in a field starts training, as Enter runs the check in section 1; not while an
  // input method (pinyin) is composing, where Enter confirms the characters.
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229 || buttons.start.disabled) return;
    event.preventDefault();
    buttons.start.click();
  });
  // Train on from the page's model (imported, or the last run's) with the form's settings.
  buttons.continue.addEventListener("click", async () => {
    clearFieldErrors(form);
    trainError.hidden = true;
    const result = lab.continue_training(values());
    if (!result.ok) {
      if (form.querySelector(`[data-error-for="${result.field}"]`)) showFieldError(form, result);
      else showTrainError(result);
      return;
    }
    form.bug.value = "";
    showBugBanner();
    // The table, chart and run go on; a loaded model starts a run of its own.
    if (table.rows.length === 0) startRun(true);
    continued = true;
    epochBar.value = 0;
    lastProgress = null;
    setState("training", "state_training", [0, form.epochs.value, 0, "…", "…", "…", "…"]);
    await nextPaint();
    if (statusEl.dataset.state === "training" && !running) run();
  });
  buttons.pause.addEventListener("click", () => lab.pause());
  buttons.resume.addEventListener("click", () => run());
  buttons.stop.addEventListener("click", () => {
    lab.stop();
    if (!running) setState("done", "state_stopped", [table.rows.length]);
  });
  buttons.reset.addEventListener("click", async () => {
    if (running) { lab.stop(); await running; }
    lab.reset(); // no model until the next Start: the draw pad says so
    emit(MODEL_CHANGED);
    emit(MODEL_SETTLED);
    chart.clear();
    flowChart.clear();
    form.bug.value = "";
    showBugBanner();
    table.replaceChildren();
    epochBar.value = 0;
    trainError.hidden = true;
    setState("ready", "state_ready", readySizes);
  });
  // A button per preset, named by its string key.
  const presetBox = document.querySelector(".presets");
  for (const preset of presets()) {
    const button = document.createElement("button");
    Object.assign(button, { type: "button", className: "secondary", textContent: t(`preset_${preset.name}`) });
    Object.assign(button.dataset, { preset: preset.name, testid: `preset-${preset.name.replaceAll("_", "-")}`, i18n: `preset_${preset.name}` });
    presetBox.append(button);
    button.addEventListener("click", () => {
      clearFieldErrors(form);
      fill(preset.values);
      presetNote.hidden = preset.name !== "deep_sigmoid";
      presetNote.textContent = presetNote.hidden ? "" : t("deep_sigmoid_note");
    });
  }
  csvButton.addEventListener("click", () => saveFile(new Blob([lab.csv()], { type: "text/csv" }), "backprop-lab-mnist.csv"));
  chartButton.addEventListener("click", () => saveFile(chart.toPng(), "backprop-lab-loss.png"));

  let readySizes = [];
  let autostartPending = false;
  /**
   * The autosave has looked: with no saved run, a link's autostart starts now; with one,
   * it waits until the student continues it (the link's run is dropped) or discards it.
   * @param {"none" | "saved" | "discarded" | "continued"} saved
   */
  function autostart(saved) {
    if (!autostartPending || saved === "saved") return;
    autostartPending = false;
    if (saved !== "continued" && !buttons.start.disabled) buttons.start.click();
  }
  const autostartWaits = () => autostartPending;
  async function load() {
    dataError.hidden = true;
    retry.hidden = true;
    setState("loading", "state_loading");
    try {
      const sizes = await loadMnist(lab, (key, args) => setStatusText(key, args));
      readySizes = [sizes.train, sizes.test];
      setState("ready", "state_ready", readySizes);
      emit(DATA_READY);
      performance.mark("mnist-ready");
      // autostart waits for the autosave to say whether a saved run would be lost.
      autostartPending = params.get("autostart") === "1" && linkFits;
    } catch (error) {
      shownDataError = error;
      dataError.textContent = describeDataError(error);
      dataError.dataset.code = error.code ?? "";
      dataError.hidden = false;
      retry.hidden = !canRetry(error);
      setState("error", "state_data_error");
      for (const b of Object.values(buttons)) b.disabled = true;
      syncQuickTrain();
    }
  }
  retry.addEventListener("click", load);
  // A hidden tab: training goes on (the browser may slow it); the page says so once back.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && statusEl.dataset.state === "training") {
      hiddenNote.hidden = false;
      hiddenNote.dataset.key = "hidden_training";
      hiddenNote.textContent = t("hidden_training");
    }
  });
  setState("idle", "state_idle");
  load();

  /** One click from the drawing pad: the Fast preset for one epoch. */
  function quickTrain() {
    if (buttons.start.disabled) return;
    fill(presets().find((p) => p.name === "fast").values);
    form.epochs.value = "1";
    form.train_limit.value = "";
    buttons.start.click();
    scrollToView(document.getElementById("train"));
  }
  /** A fresh untrained model from the form, for the step panel, when none exists and
   *  one may be made now; false (with the form's message) when it may not. */
  function ensureModel() {
    if (lab.has_model()) return true;
    if (!["ready", "done", "error"].includes(statusEl.dataset.state) || !dataError.hidden) return false;
    form.bug.value = "";
    if (!configure()) return false;
    setState("ready", "state_ready", readySizes);
    return true;
  }

  /** Train from scratch with the backward pass broken by `bug`, in a net of the
   *  activation `act` (the check's), beside the last run. */
  function trainWithBug(bug, act) {
    if (buttons.start.disabled) return false;
    form.bug.value = bug;
    if (!lockedFields.has("act")) form.act.value = act;
    startingWithBug = true;
    buttons.start.click();
    scrollToView(document.getElementById("train"));
    return true;
  }

  /** For the lesson: a short run with `settings` (the form's fields, `bug` included),
   *  beside the last run on the chart. False when Start could not start it now. */
  function trainBrief(settings) {
    if (buttons.start.disabled) return false;
    const before = values();
    clearFieldErrors(form);
    briefBefore = before;
    if (fill(settings)) {
      form.bug.value = settings.bug ?? "";
      startingWithBug = true;
      buttons.start.click(); // up to its first await: configured and started, or refused
    }
    if (statusEl.dataset.state === "training") return true;
    restoreBrief();
    return false;
  }
  /** The form as the student left it before the lesson's brief run. */
  function restoreBrief() {
    if (!briefBefore) return;
    const before = briefBefore;
    briefBefore = null;
    fill(before);
    form.bug.value = before.bug ?? "";
    showBugBanner();
  }

  /** A model loaded from a file is the page's model now: the form shows its layers, and
   *  the last run's table and chart make way. */
  function adoptModel(hidden) {
    form.hidden.value = hidden;
    clearFieldErrors(form);
    trainError.hidden = true;
    form.bug.value = "";
    showBugBanner();
    chart.clear();
    flowChart.clear();
    table.replaceChildren();
    epochBar.value = 0;
    statusEl.dataset.epoch = "0";
    setState("ready", "state_ready_imported");
    emit(MODEL_CHANGED);
    emit(MODEL_SETTLED);
  }

  /** Fill the form with a run's settings (from the runs list). */
  function applySettings(config) {
    if (form.hidden.disabled) return;
    clearFieldErrors(form);
    fill(config);
  }

  /** Go on with a run saved at an epoch end or on Pause (autosave.js), exactly where it
   *  was; a finished one is restored to be used. */
  async function resumeRun(saved) {
    clearFieldErrors(form);
    fill(saved.config);
    form.bug.value = saved.config.bug ?? "";
    trainError.hidden = true;
    const result = lab.resume(values(), saved.weights, saved.rows, saved.within ?? new Float64Array());
    if (!result.ok) {
      showTrainError(result);
      return;
    }
    chart.clear();
    flowChart.clear();
    table.replaceChildren();
    const rows = [];
    for (let i = 0; i + 5 < saved.rows.length; i += 6) {
      const [epoch, avgLoss, testAccuracy, testLoss, seconds, epochSamplesPerS] = saved.rows.slice(i, i + 6);
      rows.push({ epoch, avgLoss, testAccuracy, testLoss, seconds, epochSamplesPerS });
    }
    for (const row of rows) {
      chart.addSavedEpoch(row); // its batches were not kept: each epoch's points only
      addEpochRow(row);
    }
    startRun(false, rows);
    showBugBanner();
    statusEl.dataset.epoch = String(rows.length);
    continued = false;
    emit(MODEL_CHANGED);
    if (result.finished) { // restored to be used: its weights, the pad, Continue training
      emit(MODEL_SETTLED);
      setState("done", "state_done", [rows.length, rows.at(-1).testAccuracy.toFixed(2), result.elapsedS.toFixed(1)]);
      await scoreRestored(rows.length);
      return;
    }
    setState("training", "state_training", [rows.length, form.epochs.value, 0, "…", "…", "…", "…"]);
    await nextPaint();
    if (statusEl.dataset.state === "training" && !running) run();
  }

  /** A restored run's confusion matrix: the save keeps its rows, not the matrix, so its
   *  weights are scored again on the test set (Rust, a chunk per frame). */
  async function scoreRestored(epoch) {
    setScoring(true);
    try {
      let p;
      do {
        await nextPaint();
        p = lab.score_model();
      } while (p.ok !== false && p.accuracy === undefined);
      if (p.ok !== false) emit(MODEL_EVALUATED, { confusion: p.confusion, accuracy: p.accuracy, epoch });
    } finally {
      setScoring(false);
    }
  }

  /** While a loaded model is scored, nothing may replace or train it. */
  function setScoring(on) {
    scoring = on;
    setState(statusEl.dataset.state, status.key, status.args);
  }

  return {
    quickTrain, ensureModel, trainWithBug, trainBrief, adoptModel, applySettings, setScoring, resumeRun, autostart, autostartWaits,
    learningRate: () => form.lr.value,
    /** What stopped the last run that failed: Rust's problem (a divergence: epoch, batch, loss). */
    failure: () => shownTrainError,
    state: () => statusEl.dataset.state,
  };
}

