// @ts-check
// Section 4: inside one training step. Rust computes every tensor (src/check/inspect.rs);
// this file chooses the sample and lays the cards out; picture.js draws their tensors.
import { t, onLanguageChange } from "./i18n.js";
import { showFieldError, clearFieldErrors, formatNumber, scrollToView } from "./ui.js";
import { grid, tensorScale, paint, legend } from "./picture.js";
import { BUG_CHOSEN, DATA_READY, MODEL_SETTLED, emit, on } from "./events.js";

/** Largest side, in CSS pixels, a card's picture is drawn at; bigger ones scroll. */
const MAX_PICTURE_PX = 448;
/** Height below which a picture's rows are drawn taller than its columns are wide. */
const MIN_PICTURE_PX = 120;

/** @typedef {ReturnType<typeof initStep>} Step */

/**
 * @param {Lab} lab
 * @param {import("./train.js").Training} training
 * @param {import("./draw.js").Drawing} drawing
 */
export function initStep(lab, training, drawing) {
  const panel = document.getElementById("step");
  const fields = /** @type {HTMLElement} */ (panel.querySelector(".step-choose"));
  const index = /** @type {HTMLInputElement} */ (panel.querySelector('[data-testid="step-index"]'));
  const bugSelect = /** @type {HTMLSelectElement} */ (panel.querySelector('[data-testid="step-break-backward"]'));
  const drawnLabel = /** @type {HTMLSelectElement} */ (panel.querySelector('[data-testid="step-drawn-label"]'));
  const runButton = /** @type {HTMLButtonElement} */ (panel.querySelector('[data-testid="step-run"]'));
  const summary = document.getElementById("step-summary");
  const errorBox = document.getElementById("step-error");
  const cardsBox = document.getElementById("step-cards");
  const forwardBox = document.getElementById("step-forward");
  const backwardBox = document.getElementById("step-backward");
  const crashBox = document.getElementById("step-crash");
  const sgdButton = /** @type {HTMLElement} */ (panel.querySelector('[data-testid="step-sgd"]'));
  const sgdResult = document.getElementById("step-sgd-result");
  const selectedUnit = new Map(); // card name -> the unit shown large
  let view = null; // what Rust returned, re-rendered when the language changes
  let source = { kind: "test" }; // or { kind: "drawing" }

  for (let digit = 0; digit < 10; digit++) drawnLabel.add(new Option(String(digit), String(digit)));
  drawnLabel.closest("label").hidden = true; // shown for a drawing only

  const say = (key, args = []) => {
    summary.dataset.key = key;
    summary.dataset.args = JSON.stringify(args);
    summary.textContent = t(key, args);
  };
  // The index's refusals sit under its field; the rest (no model, no drawing, section 2's
  // learning rate) in the banner, saying where to look.
  const fail = (result) => {
    if (result.field === "step") {
      showFieldError(fields, result);
    } else {
      errorBox.dataset.code = result.code;
      errorBox.dataset.args = JSON.stringify(result.args);
      errorBox.dataset.field = result.field ?? "";
      errorBox.textContent = describeError();
      errorBox.hidden = false;
    }
    view = null;
    cardsBox.hidden = true;
    summary.textContent = "";
    delete summary.dataset.key;
  };
  const describeError = () => {
    const text = t(errorBox.dataset.code, JSON.parse(errorBox.dataset.args));
    return errorBox.dataset.field === "lr" ? t("st_lr_refused", [text]) : text;
  };

  function show() {
    clearFieldErrors(fields);
    errorBox.hidden = true;
    if (!lab.has_model() && !training.ensureModel()) {
      fail({ code: "step_no_model", args: [] });
      return;
    }
    const lr = training.learningRate();
    let result;
    if (source.kind === "drawing") {
      const { rgba, width, height } = drawing.pixels();
      result = lab.inspect_drawing(rgba, width, height, Number(drawnLabel.value), bugSelect.value, lr);
    } else {
      result = lab.inspect_test(index.value, bugSelect.value, lr);
    }
    if (!result.ok) {
      fail(result);
      return;
    }
    view = { ...result, bug: bugSelect.value, model: lab.model_info() };
    render();
  }

  function render() {
    drawnLabel.closest("label").hidden = source.kind !== "drawing";
    if (!view) return;
    const v = view;
    // A focused card is redrawn: the focus stays on the card of the same name.
    const focused = cardsBox.contains(document.activeElement) ? /** @type {HTMLElement} */ (document.activeElement).dataset.name : null;
    const what = v.index === null ? t("st_drawn", [v.label]) : t("st_test_image", [v.index, v.label]);
    say("st_summary", [what, v.predicted, formatNumber(v.loss), t(`st_model_${v.model.state}`, [v.model.arch])]);
    panel.dataset.index = v.index === null ? "drawing" : String(v.index);
    forwardBox.replaceChildren(...v.forward.map(card));
    backwardBox.replaceChildren(...v.backward.map(card));
    crashBox.hidden = !v.crash;
    if (v.crash) {
      // The panel's sample is a (1, 784) batch of one, which is the fix; the notebook's 1-D x crashes.
      crashBox.querySelector("pre").textContent = `${t("st_crash_note", [v.crash.gradLen, v.crash.inputLen])}\n${v.crash.message}`;
      crashBox.querySelector("p").textContent = t("bug_crash_fix", [v.crash.gradLen, v.crash.inputLen]);
    }
    sgdButton.hidden = !v.sgd;
    if (!v.sgd) sgdResult.hidden = true;
    renderSgd();
    cardsBox.hidden = false;
    if (focused) /** @type {HTMLElement | null} */ (panel.querySelector(`[data-testid="step-tensor"][data-name="${CSS.escape(focused)}"]`))?.focus();
  }

  function renderSgd() {
    const step = view?.sgd;
    if (!step || sgdResult.hidden) return;
    const lower = step.lossAfter < step.lossBefore;
    const rows = step.updates.map((u) => `<tr><td><code></code></td><td>${formatNumber(u.norm)}</td></tr>`).join("");
    sgdResult.innerHTML = `<p></p><table><thead><tr><th></th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
    const key = !lower ? "st_sgd_not_lower" : view.bug !== "none" ? "st_sgd_lower_bug" : "st_sgd_lower";
    sgdResult.querySelector("p").textContent = t(key,
      [String(step.learningRate), formatNumber(step.lossBefore), formatNumber(step.lossAfter)]);
    sgdResult.querySelector("p").className = lower ? "ok" : "bad";
    const [name, norm] = sgdResult.querySelectorAll("th");
    name.textContent = t("gc_col_name");
    norm.textContent = "‖lr · grad‖₂";
    sgdResult.querySelectorAll("tbody code").forEach((code, i) => { code.textContent = `${step.updates[i].name}.grad`; });
    sgdResult.dataset.lossBefore = String(step.lossBefore);
    sgdResult.dataset.lossAfter = String(step.lossAfter);
  }

  /** One tensor: name, shape, picture with its legend, figures, equation, Python. */
  function card(tensor) {
    const el = document.createElement("article");
    el.className = "card";
    el.tabIndex = 0;
    el.dataset.testid = "step-tensor";
    el.dataset.name = tensor.name;
    el.dataset.shape = tensor.shape.join("x");
    el.dataset.norm = String(tensor.norm);
    const shape = tensor.shape.length === 0 ? "()" : `(${tensor.shape.join(", ")}${tensor.shape.length === 1 ? "," : ""})`;
    el.innerHTML = `<div class="card-head"><code class="name"></code> <span class="shape"></span></div>
      <p class="broken-note" hidden></p><p class="what"></p><div class="picture"></div><p class="figures"></p>
      <p class="equation math"></p><pre class="code"></pre>`;
    if (tensor.broken) {
      el.classList.add("broken");
      const note = /** @type {HTMLElement} */ (el.querySelector(".broken-note"));
      note.hidden = false;
      note.textContent = t("st_broken_line");
    }
    el.querySelector(".name").textContent = tensor.name;
    el.querySelector(".shape").textContent = shape;
    el.querySelector(".what").textContent = t(describe(tensor.name));
    el.dataset.broken = String(tensor.broken);
    el.querySelector(".figures").textContent = t("st_figures",
      [formatNumber(tensor.min), formatNumber(tensor.max), formatNumber(tensor.norm)]);
    el.querySelector(".equation").textContent = tensor.equation;
    el.querySelector(".code").textContent = tensor.code;
    el.setAttribute("aria-label", `${tensor.name} ${shape}`);
    el.classList.toggle("wide", tensor.shape.length === 2 && tensor.shape[1] === 784 && tensor.shape[0] > 1);
    if (tensor.name !== "loss") el.querySelector(".picture").append(...picture(tensor));
    else el.querySelector(".picture").remove();
    return el;
  }

  /** The picture's layout from the tensor's shape: 28x28 for an image-sized vector, a
   *  tile per unit for a first-layer weight, bars for ten or fewer, else a square grid. */
  function picture(tensor) {
    const values = tensor.values;
    const [rows, cols] = tensor.shape.length === 2 ? tensor.shape : [1, values.length];
    if (values.length <= 10) return [bars(tensor)];
    const scale = tensorScale(tensor);
    let layout;
    if (rows === 1 && cols === 784) layout = grid(28, 28, (r, c) => r * 28 + c);
    else if (rows === 1 || tensor.shape.length === 1) {
      const side = Math.ceil(Math.sqrt(values.length));
      layout = grid(Math.ceil(values.length / side), side, (r, c) => (r * side + c < values.length ? r * side + c : -1));
    } else if (cols === 784) {
      // One 28x28 tile per unit, a pixel apart.
      const across = Math.ceil(Math.sqrt(rows));
      const down = Math.ceil(rows / across);
      layout = grid(down * 29 - 1, across * 29 - 1, (r, c) => {
        const [tr, tc, pr, pc] = [Math.floor(r / 29), Math.floor(c / 29), r % 29, c % 29];
        const unit = tr * across + tc;
        return pr === 28 || pc === 28 || unit >= rows ? -1 : unit * 784 + pr * 28 + pc;
      });
      layout.unitOf = (i) => Math.floor(i / 784);
    } else layout = grid(rows, cols, (r, c) => r * cols + c);
    const canvas = draw(layout, values, scale);
    const readout = document.createElement("output");
    readout.className = "readout";
    const at = (event) => {
      const rect = canvas.getBoundingClientRect();
      // Inside the border: the content box is the picture.
      const c = Math.floor(((event.clientX - rect.left - canvas.clientLeft) / canvas.clientWidth) * layout.cols);
      const r = Math.floor(((event.clientY - rect.top - canvas.clientTop) / canvas.clientHeight) * layout.rows);
      return layout.index(r, c);
    };
    const tell = (i) => {
      if (i < 0) return;
      const where = tensor.shape.length === 2 ? `${Math.floor(i / cols)}, ${i % cols}` : String(i % values.length);
      readout.textContent = `${tensor.name}[${where}] = ${formatNumber(values[i])}`;
    };
    canvas.addEventListener("pointermove", (e) => tell(at(e)));
    // The keyboard's cell, marked on the picture.
    const frame = document.createElement("span");
    frame.className = "picture-frame";
    const marker = document.createElement("span");
    marker.className = "cell-cursor";
    marker.hidden = true;
    frame.append(canvas, marker);
    const parts = [frame, legend(scale), readout];
    // The keyboard's way in: arrows move a cell at a time, and the readout says its value.
    let cursor = { r: -1, c: 0 };
    canvas.tabIndex = 0;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", t(layout.unitOf ? "st_picture_keys_units" : "st_picture_keys", [tensor.name]));
    canvas.addEventListener("keydown", (event) => {
      const [dr, dc] = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[event.key] ?? [0, 0];
      if (dr || dc) {
        event.preventDefault();
        event.stopPropagation(); // the panel's arrows step through test images
        cursor = nextCell(layout, cursor, dr, dc);
        tell(layout.index(cursor.r, cursor.c));
        marker.hidden = false;
        Object.assign(marker.style, { left: `${(100 * cursor.c) / layout.cols}%`, top: `${(100 * cursor.r) / layout.rows}%`,
          width: `${100 / layout.cols}%`, height: `${100 / layout.rows}%` });
      } else if (layout.unitOf && ["Enter", " "].includes(event.key) && cursor.r >= 0) {
        event.preventDefault();
        showUnit(layout.unitOf(layout.index(cursor.r, cursor.c)));
      }
    });
    const big = document.createElement("div");
    big.className = "unit";
    /** @param {number} unit */
    function showUnit(unit) {
      selectedUnit.set(tensor.name, unit);
      const tile = draw(grid(28, 28, (r, c) => unit * 784 + r * 28 + c), values, scale, 6);
      const caption = document.createElement("p");
      caption.className = "caption";
      caption.textContent = t("st_unit", [unit, tensor.name]);
      big.replaceChildren(caption, tile);
    }
    if (layout.unitOf) {
      canvas.addEventListener("click", (e) => {
        const i = at(e);
        tell(i);
        if (i >= 0) showUnit(layout.unitOf(i));
      });
      showUnit(selectedUnit.get(tensor.name) ?? 0);
      const mosaic = document.createElement("div");
      mosaic.append(...parts);
      return [mosaic, big];
    } else canvas.addEventListener("click", (e) => tell(at(e)));
    return parts;
  }

  /**
   * The next cell from `cursor` a step of (dr, dc) on: over the gaps between tiles, and
   * no further than the picture's edge. The first step lands on the first cell.
   * @param {import("./picture.js").Layout} layout
   * @param {{ r: number, c: number }} cursor @param {number} dr @param {number} dc
   */
  function nextCell(layout, cursor, dr, dc) {
    if (cursor.r < 0) return { r: 0, c: 0 };
    let { r, c } = cursor;
    do {
      r += dr;
      c += dc;
      if (r < 0 || c < 0 || r >= layout.rows || c >= layout.cols) return cursor;
    } while (layout.index(r, c) < 0);
    return { r, c };
  }

  /** The picture of `values` on `scale`, its cells `zoom` CSS pixels wide, or as large
   *  as MAX_PICTURE_PX allows.
   *  @param {import("./picture.js").Layout} layout
   *  @param {ArrayLike<number>} values
   *  @param {import("./picture.js").ColourScale} scale
   *  @param {number | null} [zoom] */
  function draw(layout, values, scale, zoom = null) {
    const canvas = paint(layout, values, scale);
    const pixel = zoom ?? Math.max(1, Math.min(8, Math.floor(MAX_PICTURE_PX / Math.max(layout.cols, layout.rows))));
    // A short, wide tensor (10 x 256) gets taller cells so each row can be seen.
    const tall = zoom ?? Math.max(pixel, Math.min(12, Math.floor(MIN_PICTURE_PX / layout.rows)));
    canvas.style.width = `${layout.cols * pixel}px`;
    canvas.style.height = `${layout.rows * tall}px`;
    canvas.className = "tensor";
    return canvas;
  }

  function bars(tensor) {
    const list = document.createElement("ol");
    list.className = "tensor-bars";
    list.start = 0;
    const top = Math.max(Math.abs(tensor.min), Math.abs(tensor.max)) || 1;
    const signed = tensor.min < 0; // signed bars grow from the middle, others from the left
    tensor.values.forEach((v, i) => {
      const li = document.createElement("li");
      li.innerHTML = `<span class="i"></span><span class="track"><span class="fill"></span></span><span class="v"></span>`;
      li.querySelector(".i").textContent = String(i);
      const fill = /** @type {HTMLElement} */ (li.querySelector(".fill"));
      const width = (Math.abs(v) / top) * (signed ? 50 : 100);
      fill.style.width = `${width}%`;
      fill.style.left = !signed ? "0" : v < 0 ? `${50 - width}%` : "50%";
      fill.classList.toggle("negative", v < 0);
      li.querySelector(".v").textContent = formatNumber(v);
      li.title = `${tensor.name}[${tensor.shape.length === 2 ? `0, ${i}` : i}] = ${formatNumber(v)}`;
      list.append(li);
    });
    return list;
  }

  function describe(name) {
    const kind = name.replace(/\d+/g, "{i}");
    return {
      input: "st_what_input", "fc{i}": "st_what_fc", "sigmoid{i}": "st_what_sigmoid", "relu{i}": "st_what_relu",
      "tanh{i}": "st_what_tanh", output: "st_what_output", probs: "st_what_probs", loss: "st_what_loss",
      grad_output: "st_what_grad_output", "grad_sigmoid{i}": "st_what_grad_sigmoid", "grad_relu{i}": "st_what_grad_sigmoid",
      "grad_tanh{i}": "st_what_grad_sigmoid", "grad_fc{i}": "st_what_grad_fc", grad_input: "st_what_grad_input",
    }[kind] ?? (name === "layers.0.weight.grad" || (name === "output_layer.weight.grad" && !view?.forward.some((c) => c.name === "fc0"))
      ? "st_what_first_weight_grad" : name.endsWith("weight.grad") ? "st_what_weight_grad" : "st_what_bias_grad");
  }

  // Choosing the sample.
  const size = () => lab.test_size();
  const goTo = (i) => {
    source = { kind: "test" };
    index.value = String(((i % size()) + size()) % size());
    show();
  };
  const current = () => Number.parseInt(index.value, 10) || 0;
  const onClick = (id, fn) => panel.querySelector(`[data-testid="${id}"]`).addEventListener("click", fn);
  onClick("step-prev", () => goTo(current() - 1));
  onClick("step-next", () => goTo(current() + 1));
  onClick("step-random", () => goTo(Math.floor(Math.random() * size())));
  onClick("step-misclassified", () => {
    if (!lab.has_model() && !training.ensureModel()) return fail({ code: "step_no_model", args: [] });
    const from = source.kind === "test" && view ? current() + 1 : current();
    const found = lab.next_misclassified(from % size());
    if (found === null) say("st_none_wrong");
    else goTo(found);
  });
  onClick("step-use-drawing", () => {
    if (!drawing.hasDigit()) return fail({ code: "step_no_drawing", args: [] });
    source = { kind: "drawing" };
    drawnLabel.value = String(drawing.digit() ?? 0);
    show();
  });
  runButton.addEventListener("click", () => { source = { kind: "test" }; show(); });
  index.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); runButton.click(); }
    // In the field the arrows left and right move the caret; up and down step, as a number field's do.
    if (["ArrowUp", "ArrowDown"].includes(event.key) && !runButton.disabled) {
      event.preventDefault();
      goTo(current() + (event.key === "ArrowUp" ? 1 : -1));
    }
  });
  // Arrow keys step through test images from anywhere in the panel but a text field's caret.
  panel.addEventListener("keydown", (event) => {
    if (runButton.disabled || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    if (/** @type {Element} */ (event.target).matches("select, input")) return; // the caret and the options move there
    event.preventDefault();
    goTo(current() + (event.key === "ArrowRight" ? 1 : -1));
  });
  bugSelect.addEventListener("change", () => {
    emit(BUG_CHOSEN, { bug: bugSelect.value, from: "step" });
    if (view) show();
  });
  drawnLabel.addEventListener("change", () => { if (view && source.kind === "drawing") show(); });
  on(BUG_CHOSEN, (detail) => {
    if (detail.from === "step") return;
    bugSelect.value = detail.bug;
    if (view) show(); // the cards follow the bug on show
  });
  sgdButton.addEventListener("click", () => {
    sgdResult.hidden = false;
    renderSgd();
  });
  // The model changed for good (a pause, an epoch's end, a reset): the cards follow.
  on(MODEL_SETTLED, () => { if (view) show(); });
  onLanguageChange(() => {
    if (view) render();
    else if (summary.dataset.key) summary.textContent = t(summary.dataset.key, JSON.parse(summary.dataset.args));
    if (!errorBox.hidden) errorBox.textContent = describeError();
  });
  on(DATA_READY, () => { runButton.disabled = false; });
  if (size() > 0) runButton.disabled = false;

  return {
    /** Show test image `i` in place, without moving the page (the lesson computes on it). */
    select: goTo,
    /** Scroll to the card of tensor `name`, marked until the keyboard or pointer leaves it. */
    pointTo(name) {
      const card = /** @type {HTMLElement | null} */ (panel.querySelector(`[data-testid="step-tensor"][data-name="${CSS.escape(name)}"]`));
      if (!card) return scrollToView(panel);
      scrollToView(card, "center");
      card.classList.add("pointed");
      card.addEventListener("blur", () => card.classList.remove("pointed"), { once: true });
      card.focus({ preventScroll: true });
    },
    /** Show test image `i` (from the gallery or a unit's top images), and scroll to it. */
    open(i) {
      goTo(i);
      scrollToView(panel);
      // The keyboard follows the eye: focus on the panel's summary of this image.
      summary.tabIndex = -1;
      summary.focus({ preventScroll: true });
    },
  };
}
