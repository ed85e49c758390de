// @ts-check
// The loss chart, drawn by uPlot (small, fast with streaming data). Points arrive every
// batch; the canvas is redrawn on an animation frame, at most every REDRAW_MS.
import { t, locale, onLanguageChange } from "./i18n.js";
import { throttledPaint } from "./ui.js";

/** Redraw interval while points stream in: smooth enough, and cheap for training. */
const REDRAW_MS = 250;
const HEIGHT = 320;

/** uPlot's columns: x first, then one column per series (null: no point there). */
/** @typedef {[number[], ...(number | null)[][]]} Columns */

export class LossChart {
  constructor(container) {
    this.container = container;
    this.scheduleDraw = throttledPaint(() => this.plot.setData(this.plotData()), REDRAW_MS);
    this.clear();
    onLanguageChange(() => this.build());
    // Follows its card's width (a turned phone, a resized window).
    new ResizeObserver(() => {
      if (this.plot.width !== this.width()) this.plot.setSize({ width: this.width(), height: HEIGHT });
    }).observe(container);
  }

  width() {
    return Math.max(240, this.container.clientWidth || 800);
  }

  /** Empty the chart. With `keepPrevious`, the run on it stays as a dashed curve of its
   *  smoothed loss, and the new run is called `label` ({tag, text()}) when the next one
   *  keeps it in turn. */
  clear({ keepPrevious = false, label = null } = {}) {
    const had = this.data?.[0].length > 0;
    this.previous = keepPrevious && had ? { label: this.label, x: this.data[0], y: this.data[2] } : null;
    this.label = label;
    // x (fractional epoch), batch loss, smoothed loss, epoch average loss, test accuracy
    /** @type {Columns} */
    this.data = [[], [], [], [], []];
    this.container.dataset.previousRun = this.previous?.label?.tag ?? "";
    this.container.dataset.previousPoints = String(this.previous?.x.length ?? 0);
    this.container.dataset.savedEpochs = "0";
    this.build();
  }

  /** This run's columns, with the previous run's curve joined on its own x values.
   *  @returns {uPlot.AlignedData} */
  plotData() {
    if (!this.previous) return this.data;
    return uPlot.join([this.data, [this.previous.x, this.previous.y]]);
  }

  build() {
    this.plot?.destroy();
    // Ticks and legend in the page's language, as uPlot does in the browser's by default.
    const number = new Intl.NumberFormat(locale()).format;
    const values = (u, ticks) => ticks.map((v) => (v == null ? "" : number(v)));
    // With no pointer on the chart (a keyboard, a phone), the legend shows each series' latest value.
    const latest = (u, series) => u.data[series].findLast((v) => v != null) ?? null;
    const value = (u, v, series, at) => {
      const shown = at == null ? latest(u, series) : v;
      return shown == null ? "" : number(shown);
    };
    this.plot = new uPlot({
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: false }, loss: { auto: true }, acc: { range: [0, 100] } },
      axes: [
        { label: t("chart_x"), values },
        { scale: "loss", label: t("chart_loss_axis"), values },
        { scale: "acc", side: 1, label: "%", grid: { show: false }, values },
      ],
      series: [
        { label: t("chart_x"), value },
        { label: t("chart_batch_loss"), scale: "loss", stroke: "rgba(47,111,223,0.75)", width: 1, points: { show: false }, value },
        { label: t("chart_smoothed"), scale: "loss", stroke: "#173f8a", width: 2.5, points: { show: false }, value },
        { label: t("chart_epoch_loss"), scale: "loss", stroke: "#d9480f", width: 2, spanGaps: true, points: { show: true, size: 7 }, value },
        { label: t("chart_accuracy"), scale: "acc", stroke: "#1a7f37", width: 2, spanGaps: true, points: { show: true, size: 7 }, value },
        ...(this.previous ? [{
          label: t("chart_previous", [this.previous.label?.text() ?? ""]), scale: "loss",
          stroke: "#7a7f8c", width: 2, dash: [6, 4], spanGaps: true, points: { show: false }, value,
        }] : []),
      ],
    }, this.plotData(), this.container);
  }

  addBatch(p) {
    this.data[0].push(p.x);
    this.data[1].push(p.loss);
    this.data[2].push(p.smoothedLoss);
    this.data[3].push(null);
    this.data[4].push(null);
    this.scheduleDraw();
  }

  /** An epoch a saved run kept (not its batches): its average loss and test accuracy alone. */
  addSavedEpoch(row) {
    this.data[0].push(row.epoch);
    this.data[1].push(null);
    this.data[2].push(null);
    this.data[3].push(row.avgLoss);
    this.data[4].push(row.testAccuracy);
    this.container.dataset.savedEpochs = String(Number(this.container.dataset.savedEpochs ?? 0) + 1);
    this.scheduleDraw();
  }

  /** Mark the epoch's average loss and test accuracy on its last batch. */
  addEpoch(p) {
    const last = this.data[0].length - 1;
    if (last < 0) return;
    this.data[3][last] = p.avgLoss;
    this.data[4][last] = p.testAccuracy;
    this.scheduleDraw();
  }

  /** The chart as a PNG data URL, on white, with its legend drawn below it. */
  toPng() {
    const source = this.plot.ctx.canvas;
    const scale = source.width / this.plot.width; // device pixels per CSS pixel
    const line = Math.round(22 * scale);
    const series = this.plot.series.slice(1);
    const canvas = document.createElement("canvas");
    canvas.width = source.width;
    canvas.height = source.height + line * (series.length + 1);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(source, 0, 0);
    ctx.font = `${Math.round(13 * scale)}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    series.forEach((s, i) => {
      const y = source.height + line * (i + 1);
      ctx.fillStyle = typeof s.stroke === "function" ? s.stroke(this.plot, i + 1) : s.stroke;
      ctx.fillRect(Math.round(16 * scale), y - Math.round(3 * scale), Math.round(28 * scale), Math.round(6 * scale));
      ctx.fillStyle = "#1d2330";
      ctx.fillText(/** @type {string} */ (s.label), Math.round(54 * scale), y);
    });
    return canvas.toDataURL("image/png");
  }
}

const LAYER_COLOURS = ["#1a7f37", "#2f6fdf", "#8250df", "#bf3989", "#d9480f", "#9a6700", "#0a7480", "#57606a"];

/**
 * The gradient flow: each layer's ||dL/dW|| (solid) and update ratio ||ΔW|| / ||W||
 * (dashed) on log scales, five points an epoch. Draws only while on screen.
 */
export class FlowChart {
  /** @param {HTMLElement} container @param {HTMLTableSectionElement} table the data table's body */
  constructor(container, table) {
    this.container = container;
    this.table = table;
    this.visible = false;
    this.scheduleDraw = throttledPaint(() => { if (this.visible) this.plot?.setData(this.data); }, REDRAW_MS);
    new IntersectionObserver(([entry]) => {
      this.visible = entry.isIntersecting;
      if (this.visible) this.scheduleDraw();
    }).observe(container);
    new ResizeObserver(() => {
      if (this.plot && this.plot.width !== this.width()) this.plot.setSize({ width: this.width(), height: 220 });
    }).observe(container);
    onLanguageChange(() => {
      if (!this.layers) return;
      this.build();
      this.table.replaceChildren(...this.data[0].map((_, k) => this.rows(k)).flat());
    });
    this.clear();
  }

  width() {
    return Math.max(240, this.container.clientWidth || 800);
  }

  clear() {
    this.layers = 0;
    /** @type {Columns} */
    this.data = [[]];
    this.container.dataset.points = "0";
    this.table.replaceChildren();
    this.plot?.destroy();
    this.plot = null;
  }

  /** Names of the layers, from the first record: `layers.0` … `output_layer`. */
  names() {
    return Array.from({ length: this.layers }, (_, i) => (i + 1 === this.layers ? "output_layer" : `layers.${i}`));
  }

  /** The data table's rows of record `k`: one a layer, the chart's numbers as text. */
  rows(k) {
    const number = new Intl.NumberFormat(locale(), { notation: "scientific", maximumFractionDigits: 2 }).format;
    return this.names().map((name, i) => {
      const tr = document.createElement("tr");
      for (const text of [this.data[0][k].toFixed(2), name, number(this.data[1 + i][k]), number(this.data[1 + this.layers + i][k])]) {
        tr.insertCell().textContent = text;
      }
      return tr;
    });
  }

  build() {
    this.plot?.destroy();
    const number = new Intl.NumberFormat(locale(), { notation: "scientific", maximumFractionDigits: 2 }).format;
    const value = (u, v) => (v == null ? "--" : number(v));
    // Only the powers of ten are labelled: a log axis's other ticks would crowd it.
    const powers = (u, ticks) => ticks.map((v) => (v != null && /^1e/.test(v.toExponential()) ? v.toExponential(0) : ""));
    const names = this.names();
    this.plot = new uPlot({
      width: this.width(),
      height: 220,
      // Names only: a value would read "--" but under a pointer; the table has them all.
      legend: { live: false },
      scales: { x: { time: false }, grad: { distr: 3, log: 10 }, ratio: { distr: 3, log: 10 } },
      axes: [
        { label: t("chart_x") },
        { scale: "grad", label: t("fl_grad_axis"), values: powers, size: 60, space: 12 },
        { scale: "ratio", side: 1, label: t("fl_ratio_axis"), grid: { show: false }, values: powers, size: 60, space: 12 },
      ],
      series: [
        { label: t("chart_x") },
        ...names.map((name, i) => ({ label: `‖∂ℓ/∂W‖ ${name}`, scale: "grad", stroke: LAYER_COLOURS[i % 8], width: 2, value })),
        ...names.map((name, i) => ({ label: `${t("fl_ratio")} ${name}`, scale: "ratio", stroke: LAYER_COLOURS[i % 8], width: 1, dash: [5, 4], value })),
      ],
    }, this.data, this.container);
  }

  add(flow) {
    if (this.layers !== flow.gradNorms.length) {
      this.layers = flow.gradNorms.length;
      this.data = [[], ...Array.from({ length: 2 * this.layers }, () => [])];
      this.build();
    }
    this.data[0].push(flow.x);
    flow.gradNorms.forEach((v, i) => this.data[1 + i].push(v));
    flow.updateRatios.forEach((v, i) => this.data[1 + this.layers + i].push(v));
    this.container.dataset.points = String(this.data[0].length);
    this.table.append(...this.rows(this.data[0].length - 1));
    // The last record's norms, first layer to last, for tests and screen readers.
    this.container.dataset.lastNorms = [...flow.gradNorms].join(",");
    this.scheduleDraw();
  }
}
