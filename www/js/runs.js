// @ts-check
// Runs compared: every run's settings and per-epoch figures, kept in the page and in
// localStorage, overlaid on one chart of epoch loss and test accuracy. The figures are
// the ones Rust reported; this file stores, lists and draws them.
import { t, locale, onLanguageChange } from "./i18n.js";
import { saveFile } from "./ui.js";
import { EPOCH_DONE, RUN_STARTED, TRAIN_STATE, on } from "./events.js";
import { fields, isRead, choiceText } from "./schema.js";

const STORAGE_KEY = "backprop-lab-runs";
const MAX_RUNS = 30; // the oldest go first: localStorage holds a few MB
const COLOURS = ["#2f6fdf", "#d9480f", "#1a7f37", "#8250df", "#bf3989", "#9a6700", "#0a7480", "#57606a"];
/** A run's settings: the training form's fields but the bug, which a run names apart. */
const settings = () => fields("train").map((f) => f.name).filter((name) => name !== "bug");

/**
 * A run's name, the one the runs list, the chart's previous-run legend and the resume
 * banner all show: `sigmoid · SGD · lr 0.5 · 256 · batch 64 · seed 1`, with the
 * optimiser's own settings after its name, then the training images when they were
 * limited, the bug when there was one, and "continued" for a run from the model before it.
 * In the page's language at the time of the call.
 * @param {import("./events.js").RunConfig} c
 * @param {{ continued?: boolean }} [options]
 */
export function runName(c, { continued = false } = {}) {
  const reads = (name) => isRead("train", name, { opt: c.opt || "sgd" });
  const optimiser = [choiceText("train", "opt", c.opt || "sgd"), ...(reads("beta1") ? [`β ${c.beta1}, ${c.beta2}`] : []),
    ...(reads("momentum") ? [`μ ${c.momentum}`] : []), ...(Number(c.wd) > 0 ? [`wd ${c.wd}`] : [])];
  const parts = [c.act || "sigmoid", optimiser.join(" "), `lr ${c.lr}`, c.hidden === "" ? "—" : c.hidden, `${t("rn_batch")} ${c.batch}`, `${t("rn_seed")} ${c.seed}`];
  if (c.train_limit) parts.push(t("rn_images", [c.train_limit]));
  if (c.bug) parts.push(t(`bug_${c.bug}_name`));
  if (continued) parts.push(t("rn_continued"));
  return parts.join(" · ");
}

/** The settings a run's optimiser reads, and a weight decay only when there is one (runs
 *  saved before there was a choice used sigmoid and SGD). */
const readBy = (config) => settings().filter((key) =>
  isRead("train", key, { opt: config.opt || "sgd" }) && (key !== "wd" || Number(config.wd) > 0));

/** @param {import("./train.js").Training} training */
export function initRuns(training) {
  const list = document.getElementById("runs-list");
  const container = document.getElementById("runs-chart");
  const table = /** @type {HTMLTableElement} */ (document.querySelector('[data-testid="runs-table"]')).tBodies[0];
  const csvAll = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="runs-csv-all"]'));
  let runs = load();
  let current = null; // the run the trainer is on
  let plot = null;

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "[]");
      // A run that never finished an epoch has nothing to compare.
      return Array.isArray(saved) ? saved.filter((r) => r && r.config && Array.isArray(r.rows) && r.rows.length) : [];
    } catch (_) {
      return []; // blocked or damaged storage: start afresh
    }
  }
  function save() {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(runs)); } catch (_) { /* full or blocked: kept for this visit */ }
  }

  /** A run's name; runs of the same settings are told apart by their order: "… (2)". */
  const name = (run) => {
    const base = (r) => runName(r.config, { continued: r.continued });
    const same = runs.filter((r) => base(r) === base(run));
    return same.length > 1 ? `${base(run)} (${same.indexOf(run) + 1})` : base(run);
  };

  /** The page's address with a run's settings: opening it fills the form the same way. */
  function shareUrl(run) {
    const url = new URL(location.href);
    url.search = "";
    for (const key of readBy(run.config)) if ((run.config[key] ?? "") !== "") url.searchParams.set(key, run.config[key]);
    // The page's language and a teacher's data mirror go along.
    const here = new URLSearchParams(location.search);
    for (const key of ["lang", "data"]) if (here.get(key)) url.searchParams.set(key, here.get(key));
    return url.href;
  }

  /** Section 2's columns, then the run's name, id and settings. */
  function csv(selected) {
    const header = ["run", "run_id", "epoch", "avg_loss", "test_accuracy", "seconds", "samples_per_s", "test_loss", ...settings(), "bug"];
    const quote = (text) => `"${String(text).replaceAll('"', '""')}"`;
    const lines = [header.join(",")];
    for (const run of selected) {
      for (const row of run.rows) {
        lines.push([quote(name(run)), run.id, row.epoch, row.avgLoss, row.testAccuracy, row.seconds ?? "", row.samplesPerS ?? "",
          row.testLoss, ...settings().map((k) => quote(run.config[k] ?? "")), quote(run.config.bug ?? "")].join(","));
      }
    }
    return `${lines.join("\n")}\n`;
  }

  const download = (text, filename) => saveFile(new Blob([text], { type: "text/csv" }), filename);

  function render() {
    list.replaceChildren(...runs.map((run, i) => {
      const li = document.createElement("li");
      li.dataset.run = run.id;
      li.dataset.epochs = String(run.rows.length);
      const colour = COLOURS[i % COLOURS.length];
      li.innerHTML = `<label><input type="checkbox" /> <span class="swatch"></span> <span class="run-name"></span></label>
        <span class="run-figures"></span>
        <span class="run-actions"><button type="button" class="link" data-act="use"></button>
        <a data-act="link"></a><button type="button" class="link" data-act="csv"></button>
        <button type="button" class="link" data-act="remove"></button></span>`;
      /** @type {HTMLElement} */ (li.querySelector(".swatch")).style.background = colour;
      li.querySelector(".run-name").textContent = name(run);
      const last = run.rows.at(-1);
      li.querySelector(".run-figures").textContent = last
        ? t("rn_figures", [last.epoch, Number(last.testAccuracy).toFixed(2), Number(last.avgLoss).toFixed(4)])
        : t("rn_no_epoch");
      const box = li.querySelector("input");
      box.checked = run.shown !== false;
      box.setAttribute("aria-label", t("rn_show", [name(run)]));
      box.addEventListener("change", () => { run.shown = box.checked; save(); draw(); });
      const use = /** @type {HTMLButtonElement} */ (li.querySelector('[data-act="use"]'));
      use.textContent = t("rn_use");
      use.disabled = training.state() === "training" || training.state() === "paused";
      use.addEventListener("click", () => training.applySettings(run.config));
      const link = /** @type {HTMLAnchorElement} */ (li.querySelector('[data-act="link"]'));
      link.textContent = t("rn_link");
      link.href = shareUrl(run);
      link.target = "_blank"; // a new tab: this one keeps its model
      link.rel = "noopener";
      const one = /** @type {HTMLButtonElement} */ (li.querySelector('[data-act="csv"]'));
      one.textContent = "CSV";
      one.setAttribute("aria-label", t("rn_csv_one", [name(run)]));
      one.addEventListener("click", () => download(csv([run]), `backprop-lab-run-${run.id}.csv`));
      const remove = /** @type {HTMLButtonElement} */ (li.querySelector('[data-act="remove"]'));
      remove.textContent = t("rn_remove");
      remove.disabled = run === current && training.state() === "training";
      remove.addEventListener("click", () => {
        runs = runs.filter((r) => r !== run);
        if (current === run) current = null;
        save();
        render();
      });
      return li;
    }));
    csvAll.disabled = !runs.some((r) => r.rows.length);
    draw();
  }

  /** Every shown run's epoch loss (left axis) and test accuracy (right), on shared epochs. */
  function draw() {
    plot?.destroy();
    plot = null;
    const shown = runs.map((run, i) => ({ run, colour: COLOURS[i % COLOURS.length] })).filter(({ run }) => run.shown !== false && run.rows.length);
    container.dataset.runs = String(shown.length);
    table.replaceChildren(...shown.flatMap(({ run }) => run.rows.map((row) => {
      const tr = document.createElement("tr");
      for (const text of [name(run), row.epoch, row.avgLoss.toFixed(4), `${row.testAccuracy.toFixed(2)}%`]) tr.insertCell().textContent = String(text);
      return tr;
    })));
    if (!shown.length) return;
    const epochs = [...new Set(shown.flatMap(({ run }) => run.rows.map((r) => r.epoch)))].sort((a, b) => a - b);
    const column = (run, key) => epochs.map((e) => run.rows.find((r) => r.epoch === e)?.[key] ?? null);
    const number = new Intl.NumberFormat(locale()).format;
    const value = (u, v) => (v == null ? "--" : number(v));
    plot = new uPlot({
      width: Math.max(240, container.clientWidth || 800),
      height: 240,
      legend: { live: false }, // names only; the table below has the figures
      scales: { x: { time: false }, loss: { auto: true }, acc: { range: [0, 100] } },
      axes: [
        { label: t("col_epoch"), incrs: [1, 2, 5, 10, 20, 50], values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : "")) },
        { scale: "loss", label: t("chart_epoch_loss") },
        { scale: "acc", side: 1, label: t("chart_accuracy"), grid: { show: false } },
      ],
      series: [
        { label: t("col_epoch") },
        ...shown.flatMap(({ run, colour }) => [
          { label: `${name(run)}: ${t("rn_loss")}`, scale: "loss", stroke: colour, width: 2, spanGaps: true, value },
          { label: `${name(run)}: ${t("rn_accuracy")}`, scale: "acc", stroke: colour, width: 2, dash: [6, 4], spanGaps: true, value },
        ]),
      ],
    }, [epochs, ...shown.flatMap(({ run }) => [column(run, "avgLoss"), column(run, "testAccuracy")])], container);
  }

  on(RUN_STARTED, (detail) => {
    const { config, continued, id, rows, brief } = detail;
    if (brief) { current = null; return; } // the lesson's short runs are its own, not the student's
    runs = runs.filter((r) => r.rows.length); // a run stopped before its first epoch
    // A run resumed after a reload goes on in its own entry.
    const same = rows.length ? runs.find((r) => r.rows.length === rows.length && JSON.stringify(r.config) === JSON.stringify(config)) : null;
    if (same) runs = runs.filter((r) => r !== same);
    current = { id: same?.id ?? id, config, continued, rows: [...rows], shown: true };
    runs.push(current);
    while (runs.length > MAX_RUNS) runs.shift();
    save();
    render();
  });
  on(EPOCH_DONE, (detail) => {
    if (!current) return;
    const p = detail;
    current.rows.push({ epoch: p.epoch, avgLoss: p.avgLoss, testAccuracy: p.testAccuracy, testLoss: p.testLoss,
      seconds: p.seconds, samplesPerS: p.epochSamplesPerS });
    // A task of its own, apart from the epoch's end: the chart is rebuilt.
    setTimeout(() => { save(); render(); });
  });
  on(TRAIN_STATE, () => {
    const busy = ["training", "paused"].includes(training.state());
    const remove = /** @type {HTMLButtonElement | null} */ (list.querySelector(`[data-run="${current?.id}"] [data-act="remove"]`));
    if (remove) remove.disabled = training.state() === "training";
    /** @type {NodeListOf<HTMLButtonElement>} */ (list.querySelectorAll('[data-act="use"]')).forEach((b) => { b.disabled = busy; });
  });
  csvAll.addEventListener("click", () => download(csv(runs), "backprop-lab-runs.csv"));
  new ResizeObserver(() => { if (plot && plot.width !== container.clientWidth) draw(); }).observe(container);
  onLanguageChange(render);
}
