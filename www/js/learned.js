// @ts-check
// Section 5: what the network learned. The confusion matrix of the last evaluation with
// a gallery of each cell's images, and the first layer's units as tiles. Rust counts,
// sorts and scores; this file lays the numbers out and maps them to colours.
import { t, locale, onLanguageChange, formatCount } from "./i18n.js";
import { grid, colourScale, paint } from "./picture.js";
import { EPOCH_DONE, MODEL_CHANGED, MODEL_EVALUATED, MODEL_MOVED, MODEL_SETTLED, RUN_STARTED, on } from "./events.js";

const PAGE = 100; // gallery images at a time
const REFRESH_MS = 1000; // the mosaic while training, at most

/**
 * @param {Lab} lab
 * @param {import("./step.js").Step} step
 */
export function initLearned(lab, step) {
  const section = document.getElementById("learned");
  const table = /** @type {HTMLTableElement} */ (document.querySelector('[data-testid="confusion-matrix"]'));
  const summary = document.getElementById("cm-summary");
  const gallery = /** @type {HTMLElement} */ (document.querySelector('[data-testid="mistakes-gallery"]'));
  const galleryItems = gallery.querySelector(".gallery-items");
  const more = /** @type {HTMLElement} */ (gallery.querySelector('[data-testid="gallery-more"]'));
  const units = /** @type {HTMLElement} */ (document.querySelector('[data-testid="hidden-units"]'));
  const unitsSummary = document.getElementById("units-summary");
  const detail = /** @type {HTMLElement} */ (document.querySelector('[data-testid="unit-detail"]'));
  let confusion = null; // {counts, shares, recall, accuracy}
  let cell = null; // {truth, predicted, shown, total}
  let visible = false;
  let lastMosaic = 0;
  let mosaicPending = false;
  let selectedUnit = null;

  const percent = (v) => new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(v);

  /**
   * Arrow keys move the focus through a grid of `cells` laid out `across` a row.
   * @param {HTMLElement} container
   * @param {string} selector the cells
   * @param {() => number} across
   * @param {KeyboardEvent} event
   */
  function roving(container, selector, across, event) {
    const cells = /** @type {HTMLElement[]} */ ([...container.querySelectorAll(selector)]);
    const target = /** @type {HTMLElement} */ (event.target);
    const at = cells.indexOf(target);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: across(), ArrowUp: -across() }[event.key];
    if (at < 0 || step === undefined) return false;
    const next = cells[at + step];
    if (!next) return true;
    target.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
    return true;
  }

  /** A 28x28 grey image from 784 bytes (0 paper, 255 ink), as MNIST stores it. */
  function thumbnail(pixels, offset, label) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - pixels[offset + p];
      image.data.set([v, v, v, 255], p * 4);
    }
    ctx.putImageData(image, 0, 0);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label);
    return canvas;
  }

  // ---- Confusion matrix and gallery ----
  function showConfusion(result, accuracy, label) {
    confusion = { ...result, accuracy, label, stale: false };
    renderConfusion();
    if (cell) openCell(cell.truth, cell.predicted);
  }

  function renderConfusion() {
    if (!confusion) {
      table.hidden = true;
      summary.textContent = t("cm_none");
      return;
    }
    const { counts, shares, recall } = confusion;
    const head = document.createElement("thead");
    head.innerHTML = `<tr><th scope="col"></th>${Array.from({ length: 10 }, (_, p) => `<th scope="col">${p}</th>`).join("")}<th scope="col"></th></tr>`;
    head.rows[0].cells[0].textContent = t("cm_corner");
    head.rows[0].cells[11].textContent = t("cm_recall");
    const body = document.createElement("tbody");
    let total = 0;
    let diagonal = 0;
    for (let truth = 0; truth < 10; truth++) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(truth);
      tr.append(th);
      for (let predicted = 0; predicted < 10; predicted++) {
        const k = truth * 10 + predicted;
        const td = document.createElement("td");
        td.dataset.true = String(truth);
        td.dataset.pred = String(predicted);
        td.dataset.count = String(counts[k]);
        td.textContent = counts[k] ? formatCount(counts[k]) : "·";
        // Shaded by its share of the row: green on the diagonal, red off it, never so dark
        // that the count falls below 4.5:1 against the text.
        const hue = truth === predicted ? "26, 127, 55" : "198, 40, 40";
        td.style.background = `rgba(${hue}, ${truth === predicted ? shares[k] * 0.55 : Math.min(0.6, shares[k] * 6)})`;
        td.title = t("cm_cell", [truth, predicted, counts[k], percent(shares[k])]);
        td.tabIndex = -1;
        td.setAttribute("aria-label", td.title);
        if (counts[k]) {
          td.classList.add("clickable");
          td.setAttribute("role", "button");
        }
        total += counts[k];
        if (truth === predicted) diagonal += counts[k];
        tr.append(td);
      }
      const r = document.createElement("td");
      r.className = "recall";
      r.textContent = percent(recall[truth]);
      tr.append(r);
      body.append(tr);
    }
    table.replaceChildren(head, body);
    table.dataset.total = String(total);
    table.dataset.diagonal = String(diagonal);
    table.hidden = false;
    const label = t(confusion.label.key, confusion.label.args);
    summary.textContent = t("cm_summary", [formatCount(total), formatCount(diagonal), confusion.accuracy.toFixed(2), label]) +
      (confusion.stale ? ` ${t("cm_stale")}` : "");
    summary.dataset.stale = String(confusion.stale);
    // One cell in the tab order; arrow keys move between them.
    const start = /** @type {HTMLTableCellElement | null} */ (table.querySelector("td.clickable") ?? table.querySelector("td[data-count]"));
    if (start) start.tabIndex = 0;
  }

  function openCell(truth, predicted, offset = 0) {
    const result = lab.gallery(truth, predicted, offset, PAGE);
    if (!result.ok) return;
    cell = { truth, predicted, total: result.total, shown: offset + result.items.length };
    gallery.dataset.true = String(truth);
    gallery.dataset.pred = String(predicted);
    gallery.dataset.total = String(result.total);
    document.getElementById("gallery-title").textContent = t(truth === predicted ? "gl_title_right" : "gl_title",
      [truth, predicted, formatCount(result.total)]);
    const items = result.items.map((item, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "gallery-item";
      button.dataset.testid = "gallery-item";
      button.dataset.index = String(item.index);
      button.dataset.true = String(truth);
      button.dataset.pred = String(predicted);
      button.dataset.confidence = String(item.confidence);
      const caption = document.createElement("span");
      caption.textContent = `#${item.index} · ${percent(item.confidence)}`;
      // The visible caption starts the name, so "click #1843" in speech input finds it.
      const label = `${caption.textContent}: ${t("gl_item", [item.index, truth, predicted, percent(item.confidence)])}`;
      button.setAttribute("aria-label", label);
      button.title = label;
      button.append(thumbnail(result.pixels, i * 784, label), caption);
      button.addEventListener("click", () => step.open(item.index));
      return button;
    });
    if (offset === 0) galleryItems.replaceChildren(...items);
    else galleryItems.append(...items);
    more.hidden = cell.shown >= cell.total;
    gallery.hidden = false;
  }

  table.addEventListener("click", (event) => {
    const td = /** @type {HTMLTableCellElement | null} */ (/** @type {Element} */ (event.target).closest("td[data-count]"));
    if (td && td.dataset.count !== "0") openCell(Number(td.dataset.true), Number(td.dataset.pred));
  });
  table.addEventListener("keydown", (event) => {
    if (roving(table, "td[data-count]", () => 10, event)) return event.preventDefault();
    const td = /** @type {HTMLTableCellElement | null} */ (/** @type {Element} */ (event.target).closest("td[data-count]"));
    if (td && (event.key === "Enter" || event.key === " ") && td.dataset.count !== "0") {
      event.preventDefault();
      openCell(Number(td.dataset.true), Number(td.dataset.pred));
    }
  });
  more.addEventListener("click", () => openCell(cell.truth, cell.predicted, cell.shown));

  // Each in a task of its own, apart from the epoch's end.
  on(EPOCH_DONE, (detail) => {
    const { confusion: counts, testAccuracy, epoch } = detail;
    if (counts) setTimeout(() => showConfusion(counts, testAccuracy, { key: "cm_after_epoch", args: [epoch] }));
  });
  // A loaded model, or a run restored after a reload (scored again: `epoch` is its last).
  on(MODEL_EVALUATED, (detail) => showConfusion(detail.confusion, detail.accuracy,
    detail.epoch ? { key: "cm_after_epoch", args: [detail.epoch] } : { key: "cm_loaded", args: [] }));
  // Trained on since the matrix was made: the step panel may now answer otherwise.
  on(MODEL_MOVED, () => {
    if (confusion && !confusion.stale) {
      confusion.stale = true;
      renderConfusion();
    }
  });
  // A new run: the matrix described the model before it.
  on(RUN_STARTED, () => {
    confusion = null;
    cell = null;
    gallery.hidden = true;
    renderConfusion();
  });

  // ---- Hidden units ----
  /** A unit's 784 weights from `offset` as a 28x28 picture, diverging blue-white-red
   *  on the tile's own scale (its largest magnitude, `scale`). */
  function tile(values, offset, scale, label) {
    const canvas = paint(grid(28, 28, (r, c) => offset + r * 28 + c), values, colourScale(scale));
    canvas.setAttribute("aria-hidden", "true");
    canvas.title = label;
    return canvas;
  }

  function drawMosaic() {
    mosaicPending = false;
    lastMosaic = performance.now();
    const tiles = lab.tiles();
    if (!tiles) {
      units.replaceChildren();
      units.dataset.units = "0";
      unitsSummary.textContent = t("hu_none");
      detail.hidden = true;
      return;
    }
    units.dataset.units = String(tiles.units);
    units.dataset.layer = tiles.layer;
    unitsSummary.textContent = t(tiles.layer === "layers.0.weight" ? "hu_summary" : "hu_summary_flat", [tiles.units]);
    units.style.setProperty("--across", String(Math.ceil(Math.sqrt(tiles.units))));
    const flat = tiles.layer !== "layers.0.weight";
    units.replaceChildren(...Array.from({ length: tiles.units }, (_, u) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "unit-tile";
      button.dataset.unit = String(u);
      button.tabIndex = u === (selectedUnit ?? 0) ? 0 : -1;
      const label = t(flat ? "hu_digit_tile" : "hu_tile", [u]);
      button.setAttribute("aria-label", label);
      button.classList.toggle("selected", u === selectedUnit);
      button.append(tile(tiles.values, u * 784, tiles.scales[u], label));
      button.addEventListener("click", () => showUnit(u));
      return button;
    }));
    if (selectedUnit !== null && selectedUnit < tiles.units) showUnit(selectedUnit, tiles);
    else detail.hidden = true;
  }

  function showUnit(u, tiles = lab.tiles()) {
    const info = lab.unit(u);
    if (!info || !tiles) return;
    selectedUnit = u;
    /** @type {NodeListOf<HTMLElement>} */ (units.querySelectorAll(".unit-tile")).forEach((b) => b.classList.toggle("selected", Number(b.dataset.unit) === u));
    detail.dataset.unit = String(u);
    const big = tile(tiles.values, u * 784, tiles.scales[u], t("hu_tile", [u]));
    big.className = "big";
    const heading = document.createElement("h4");
    heading.textContent = t("hu_detail", [u, tiles.layer, info.bias.toPrecision(3)]);
    /** @type {HTMLElement[]} */
    const parts = [heading, big];
    if (!info.outgoing && tiles.layer === "layers.0.weight") {
      const note = document.createElement("p");
      note.className = "caption";
      note.textContent = t("hu_outgoing_deep");
      parts.push(note);
    }
    if (info.outgoing) {
      const caption = document.createElement("p");
      caption.className = "caption";
      caption.textContent = t("hu_outgoing");
      const list = document.createElement("ol");
      list.className = "tensor-bars";
      list.start = 0;
      const top = Math.max(...info.outgoing.map(Math.abs)) || 1;
      info.outgoing.forEach((w, digit) => {
        const li = document.createElement("li");
        li.innerHTML = `<span class="i">${digit}</span><span class="track"><span class="fill"></span></span><span class="v"></span>`;
        const fill = /** @type {HTMLElement} */ (li.querySelector(".fill"));
        fill.style.width = `${(Math.abs(w) / top) * 50}%`;
        fill.style.left = w < 0 ? `${50 - (Math.abs(w) / top) * 50}%` : "50%";
        fill.classList.toggle("negative", w < 0);
        li.querySelector(".v").textContent = w.toPrecision(3);
        list.append(li);
      });
      parts.push(caption, list);
    }
    const excite = document.createElement("p");
    excite.className = "caption";
    excite.textContent = t("hu_top");
    const row = document.createElement("div");
    row.className = "gallery-items";
    info.top.forEach((item, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "gallery-item";
      button.dataset.index = String(item.index);
      const caption = document.createElement("span");
      caption.textContent = `#${item.index} · ${item.activation.toPrecision(3)}`;
      const label = `${caption.textContent}: ${t("hu_top_item", [item.index, item.activation.toPrecision(3)])}`; // the visible text first
      button.setAttribute("aria-label", label);
      button.append(thumbnail(info.pixels, i * 784, label), caption);
      button.addEventListener("click", () => step.open(item.index));
      row.append(button);
    });
    parts.push(excite, row);
    detail.replaceChildren(...parts);
    detail.hidden = false;
  }

  // Escape closes a unit's detail and puts the keyboard back on its tile.
  for (const area of [units, detail]) {
    area.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || detail.hidden) return;
      const tile = /** @type {HTMLElement | null} */ (units.querySelector(`.unit-tile[data-unit="${selectedUnit}"]`));
      selectedUnit = null;
      detail.hidden = true;
      units.querySelectorAll(".unit-tile.selected").forEach((b) => b.classList.remove("selected"));
      tile?.focus();
    });
  }

  /** Redraw the mosaic now if it is on screen, else when it comes into view. */
  function refreshMosaic(force = false) {
    if (!visible) { mosaicPending = true; return; }
    const wait = lastMosaic + REFRESH_MS - performance.now();
    if (force || wait <= 0) drawMosaic();
    else if (!mosaicPending) { mosaicPending = true; setTimeout(() => { if (mosaicPending) drawMosaic(); }, wait); }
  }
  units.addEventListener("keydown", (event) => {
    const across = () => Number(getComputedStyle(units).getPropertyValue("--across")) || 16;
    if (roving(units, ".unit-tile", across, event)) event.preventDefault();
  });
  new IntersectionObserver(([entry]) => {
    visible = entry.isIntersecting;
    if (visible && mosaicPending) drawMosaic();
  }).observe(section);
  on(EPOCH_DONE, () => setTimeout(() => refreshMosaic(true)));
  on(MODEL_SETTLED, () => {
    refreshMosaic(true);
    if (!lab.has_model()) { confusion = null; cell = null; gallery.hidden = true; renderConfusion(); }
  });
  on(MODEL_CHANGED, () => refreshMosaic());

  onLanguageChange(() => {
    renderConfusion();
    if (cell && !gallery.hidden) openCell(cell.truth, cell.predicted);
    if (visible) drawMosaic();
    else mosaicPending = true;
  });
}
