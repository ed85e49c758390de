// @ts-check
// A tensor as a picture, one cell a value: blue below 0, white at 0, red above, on a scale
// shared by the whole picture (white to ink when no value is negative). Used by the step
// panel's cards (step.js) and the hidden units' tiles (learned.js), so the two read alike.
import { formatNumber } from "./ui.js";

/** A cell outside the tensor (the gap between tiles, the end of a square): light grey. */
const GAP = [238, 240, 244];

/**
 * Where each cell of a `rows` x `cols` picture reads its value: `index(r, c)` is an index
 * into the values, or -1 for a gap.
 * @typedef {{ rows: number, cols: number, index: (r: number, c: number) => number, unitOf?: (i: number) => number }} Layout
 */

/**
 * @typedef {object} ColourScale
 * @property {boolean} signed diverging blue-white-red, else white to ink
 * @property {number} top the magnitude drawn at full colour
 * @property {(v: number) => number[]} colour a value's [red, green, blue]
 */

/**
 * A layout of `rows` x `cols` cells; outside it, every cell is a gap.
 * @param {number} rows
 * @param {number} cols
 * @param {(r: number, c: number) => number} index
 * @returns {Layout}
 */
export function grid(rows, cols, index) {
  return { rows, cols, index: (r, c) => (r >= 0 && r < rows && c >= 0 && c < cols ? index(r, c) : -1) };
}

/**
 * Diverging blue-white-red around 0 for signed values; white to ink for values >= 0.
 * `top` (0 taken as 1) and beyond is drawn at full colour.
 * @param {number} top
 * @param {boolean} [signed]
 * @returns {ColourScale}
 */
export function colourScale(top, signed = true) {
  top = top || 1;
  const colour = (/** @type {number} */ v) => {
    const f = Math.min(1, Math.abs(v) / top);
    if (!signed) return [255 - 235 * f, 255 - 235 * f, 255 - 235 * f]; // never negative: white to ink
    return v < 0 ? [255 - 220 * f, 255 - 150 * f, 255] : [255, 255 - 190 * f, 255 - 200 * f];
  };
  return { signed, top, colour };
}

/** The scale for a whole tensor: signed when any value is below 0, its largest magnitude at full colour.
 * @param {{ min: number, max: number }} tensor */
export function tensorScale(tensor) {
  return colourScale(Math.max(Math.abs(tensor.min), Math.abs(tensor.max)), tensor.min < 0);
}

/**
 * A canvas of `layout.cols` x `layout.rows` pixels, each a cell of `values` coloured on
 * `scale`. Its size on the page is the caller's.
 * @param {Layout} layout
 * @param {ArrayLike<number>} values
 * @param {ColourScale} scale
 * @returns {HTMLCanvasElement}
 */
export function paint(layout, values, scale) {
  const canvas = document.createElement("canvas");
  canvas.width = layout.cols;
  canvas.height = layout.rows;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(layout.cols, layout.rows);
  for (let r = 0; r < layout.rows; r++) {
    for (let c = 0; c < layout.cols; c++) {
      const i = layout.index(r, c);
      const [red, green, blue] = i < 0 ? GAP : scale.colour(values[i]);
      const p = (r * layout.cols + c) * 4;
      image.data.set([red, green, blue, 255], p);
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/**
 * The scale as a bar from its lowest to its highest value, the two ends labelled.
 * @param {ColourScale} scale
 */
export function legend(scale) {
  const el = document.createElement("div");
  el.className = "legend";
  const stops = (scale.signed ? [-scale.top, 0, scale.top] : [0, scale.top / 2, scale.top])
    .map((v) => `rgb(${scale.colour(v).join(",")})`);
  el.innerHTML = `<span></span><span class="bar"></span><span></span>`;
  const [low, bar, high] = /** @type {HTMLCollectionOf<HTMLElement>} */ (el.children);
  bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  low.textContent = scale.signed ? formatNumber(-scale.top) : "0";
  high.textContent = formatNumber(scale.top);
  return el;
}
