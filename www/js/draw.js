// @ts-check
// Section 3: the drawing pad. Pointer events (mouse, touch, pen) draw round strokes;
// Rust prepares the pixels MNIST-style and classifies them with the current weights.
import { t, locale, onLanguageChange } from "./i18n.js";
import { MODEL_CHANGED, on } from "./events.js";

const STROKE_CSS_PX = 20; // about MNIST's stroke width relative to a digit filling the pad
const PREDICT_EVERY_MS = 50;

/** @typedef {ReturnType<typeof initDrawing>} Drawing */

/**
 * @param {Lab} lab
 * @param {Pick<import("./train.js").Training, "quickTrain">} training
 */
export function initDrawing(lab, { quickTrain }) {
  const canvas = /** @type {HTMLCanvasElement} */ (document.getElementById("draw-canvas"));
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const preview = /** @type {HTMLCanvasElement} */ (document.getElementById("preview-canvas")).getContext("2d");
  const result = /** @type {HTMLElement} */ (document.querySelector('[data-testid="prediction"]'));
  const bigDigit = document.getElementById("big-digit");
  const text = document.getElementById("prediction-text");
  const quick = /** @type {HTMLButtonElement} */ (document.getElementById("quick-train"));
  const bars = document.getElementById("prob-bars");
  const hiddenBox = /** @type {HTMLElement} */ (document.querySelector('[data-testid="draw-hidden"]'));
  const hiddenCanvas = /** @type {HTMLCanvasElement} */ (document.getElementById("hidden-canvas"));
  const hiddenNote = document.getElementById("hidden-note");
  const strokes = []; // each stroke: [[x, y], ...] in CSS pixels
  /** @type {HTMLCanvasElement | null} a test image put on the pad from the keyboard, under the strokes */
  let stamp = null;
  const stamped = new Array(10).fill(0); // how many test images of each digit the keys have put
  let current = null;
  let lastPredict = 0;
  let pendingPredict = 0;
  let shown = null;

  for (let digit = 0; digit < 10; digit++) {
    const li = document.createElement("li");
    li.innerHTML = `<span class="bar-label">${digit}</span><meter min="0" max="1" value="0"></meter><span class="bar-value"></span>`;
    bars.append(li);
  }

  // Backing store in device pixels, so strokes stay sharp on high-DPI screens.
  function resize() {
    const rect = canvas.getBoundingClientRect();
    const scale = window.devicePixelRatio || 1;
    canvas.width = Math.round(rect.width * scale);
    canvas.height = Math.round(rect.height * scale);
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    redraw();
  }

  function redraw() {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (stamp) ctx.drawImage(stamp, 0, 0, canvas.width, canvas.height);
    ctx.restore();
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = STROKE_CSS_PX;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of strokes) drawStroke(stroke);
  }

  function drawStroke(points) {
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    if (points.length === 1) ctx.lineTo(points[0][0] + 0.01, points[0][1]);
    ctx.stroke();
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    drawStroke(current);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    const before = current.at(-1);
    for (const e of events) current.push(point(e));
    drawStroke([before, ...current.slice(-events.length)]);
    schedulePredict();
  });
  const endStroke = () => {
    if (!current) return;
    current = null;
    predict();
  };
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  function clear() {
    strokes.length = 0;
    stamp = null;
    redraw();
    predict();
  }
  document.querySelector('[data-testid="clear-canvas"]').addEventListener("click", clear);
  document.querySelector('[data-testid="undo-stroke"]').addEventListener("click", () => {
    if (!strokes.pop()) stamp = null;
    redraw();
    predict();
  });
  // Without a pointer: a digit key puts a test image of that digit on the pad (the next
  // one each press), strokes drawn over it stay; Delete or Backspace clears the pad.
  canvas.addEventListener("keydown", (event) => {
    if (/^[0-9]$/.test(event.key)) {
      const digit = Number(event.key);
      const image = lab.test_image_of(digit, stamped[digit]++);
      if (!image) return;
      event.preventDefault();
      stamp = document.createElement("canvas");
      stamp.width = stamp.height = 28;
      const ink = new Uint8ClampedArray(28 * 28 * 4);
      image.pixels.forEach((v, i) => { ink.set([255 - v, 255 - v, 255 - v, 255], i * 4); }); // MNIST's ink is light on dark
      stamp.getContext("2d").putImageData(new ImageData(ink, 28, 28), 0, 0);
      strokes.length = 0;
      canvas.dataset.stamp = String(image.index);
      redraw();
      predict();
    } else if (["Delete", "Backspace"].includes(event.key)) {
      event.preventDefault();
      clear();
    }
  });
  quick.addEventListener("click", quickTrain);

  /** While drawing: at most one prediction per PREDICT_EVERY_MS. */
  function schedulePredict() {
    if (pendingPredict) return;
    const wait = Math.max(0, lastPredict + PREDICT_EVERY_MS - performance.now());
    pendingPredict = setTimeout(() => {
      pendingPredict = 0;
      predict();
    }, wait);
  }

  function predict() {
    lastPredict = performance.now();
    const { rgba, width, height } = pixels();
    shown = lab.predict(rgba, width, height);
    render();
  }

  /** The pad's pixels, as Rust reads them. */
  function pixels() {
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { rgba: new Uint8Array(image.data.buffer), width: canvas.width, height: canvas.height };
  }

  function render() {
    const r = shown;
    const percent = new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 });
    if (r?.preview) {
      preview.putImageData(new ImageData(new Uint8ClampedArray(r.preview), 28, 28), 0, 0);
    } else {
      preview.fillStyle = "#000";
      preview.fillRect(0, 0, 28, 28);
    }
    const probabilities = r?.probabilities ?? new Float32Array(10);
    [...bars.children].forEach((li, digit) => {
      li.querySelector("meter").value = probabilities[digit];
      li.querySelector(".bar-value").textContent = r?.probabilities ? percent.format(probabilities[digit]) : "";
      li.classList.toggle("top", digit === r?.digit);
    });
    const hasDigit = r && r.digit !== null && r.digit !== undefined;
    result.dataset.digit = hasDigit ? String(r.digit) : "";
    result.dataset.confidence = hasDigit ? String(r.confidence) : "";
    result.dataset.untrained = String(Boolean(r?.untrained));
    bigDigit.textContent = hasDigit ? String(r.digit) : "–";
    bigDigit.classList.toggle("muted", !hasDigit || Boolean(r?.untrained)); // no answer, or a guess
    quick.hidden = !r?.untrained;
    result.dataset.tooSmall = String(Boolean(r?.tooSmall));
    if (!r || r.empty) text.textContent = t("dr_empty");
    else if (r.tooSmall) text.textContent = t("dr_too_small");
    else if (!hasDigit) text.textContent = t("dr_untrained");
    else if (r.untrained) text.textContent = t("dr_untrained_guess", [r.digit, percent.format(r.confidence)]);
    else text.textContent = t("dr_result", [r.digit, percent.format(r.confidence)]);
    renderHidden(r?.lit);
  }

  /** sigmoid0 as a square-ish grid, white (0) to black (1); the units that push the
   *  model's digit most are outlined. */
  function renderHidden(lit) {
    hiddenBox.hidden = !lit;
    if (!lit) return;
    const n = lit.activations.length;
    const across = Math.ceil(Math.sqrt(n));
    const cell = Math.max(6, Math.floor(160 / across));
    hiddenCanvas.width = across * cell;
    hiddenCanvas.height = Math.ceil(n / across) * cell;
    const g = hiddenCanvas.getContext("2d");
    g.fillStyle = "#eef0f4";
    g.fillRect(0, 0, hiddenCanvas.width, hiddenCanvas.height);
    lit.activations.forEach((a, j) => {
      const v = Math.round(255 * (1 - a));
      g.fillStyle = `rgb(${v},${v},${v})`;
      g.fillRect((j % across) * cell, Math.floor(j / across) * cell, cell - 1, cell - 1);
    });
    g.lineWidth = 2;
    g.strokeStyle = "#e8590c";
    for (const j of lit.strongest.map(Number)) g.strokeRect((j % across) * cell + 1, Math.floor(j / across) * cell + 1, cell - 3, cell - 3);
    hiddenBox.dataset.units = String(n);
    hiddenBox.dataset.strongest = lit.strongest.join(",");
    hiddenNote.textContent = t("dr_hidden_note", [lit.winner, lit.strongest.length, lit.strongest.join(", ")]);
  }

  new ResizeObserver(resize).observe(canvas);
  onLanguageChange(render);
  // Follow the model as it learns: re-read the drawing when the weights change.
  on(MODEL_CHANGED, () => { if (strokes.length) predict(); });
  render();
  return {
    pixels,
    hasDigit: () => Boolean(shown?.preview),
    digit: () => shown?.digit ?? null,
  };
}
