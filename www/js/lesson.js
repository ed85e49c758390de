// @ts-check
// The lesson "Predict, then see" (issue 27): each step asks, waits for the student's
// prediction, answers it with the sentence that choice earns, then reveals the answer
// computed by Rust on the page's model and sample (never stored), shown in the step with
// a link to the part of the page where it happens. The steps are data (lesson/steps.js);
// the reveals are below, one function per computation, each reusing a section's own
// machinery and leaving its form as the student had it. Nothing is computed until a step
// is revealed. Progress (answers, which steps were revealed, skipped) is kept in
// localStorage.
import { STEPS } from "./lesson/steps.js";
import { t, onLanguageChange } from "./i18n.js";
import { formatNumber, scrollToView } from "./ui.js";
import { presets } from "./schema.js";
import { EPOCH_DONE, GRAD_FLOW, TRAIN_STATE, on } from "./events.js";

const STORAGE_KEY = "backprop-lab-lesson";
/** Images a short training run of the lesson reads: its epoch is this many (a train_limit). */
const BRIEF_LIMIT = "6400";

/** @typedef {import("./lesson/steps.js").Step} Step */
/** @typedef {{ answers: Record<string, string[]>, revealed: Record<string, boolean>, skipped: boolean }} Progress */

/** @returns {Progress} */
function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved && typeof saved === "object") return { answers: saved.answers ?? {}, revealed: saved.revealed ?? {}, skipped: !!saved.skipped };
  } catch (_) { /* storage blocked or spoiled: start afresh */ }
  return { answers: {}, revealed: {}, skipped: false };
}

/** An element with a class and text. */
function el(tag, className = "", text = "") {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

/** A figure, or a dash for one that is not finite (as the check's table writes it). */
const figure = (x) => (Number.isFinite(x) ? formatNumber(x) : "—");

const shapeText = (shape) => `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;

/**
 * @param {Lab} lab
 * @param {import("./train.js").Training} training
 * @param {import("./gradcheck.js").Gradcheck} gradcheck
 * @param {import("./step.js").Step} stepPanel
 */
export function initLesson(lab, training, gradcheck, stepPanel) {
  const root = document.getElementById("lesson");
  const list = document.getElementById("lesson-steps");
  const skip = /** @type {HTMLButtonElement} */ (root.querySelector('[data-testid="lesson-skip"]'));
  const restart = /** @type {HTMLButtonElement} */ (root.querySelector('[data-testid="lesson-restart"]'));
  const progressLine = document.getElementById("lesson-progress");
  let progress = load();
  /** Each revealed step's view, redrawn in the page's language: step id -> render. */
  const views = new Map();
  const save = () => {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(progress)); } catch (_) { /* no storage: the lesson still works */ }
  };

  // What a reveal waits for: section 2 says when a run has ended.
  let runEnded = null;
  let lastEpoch = null;
  let lastFlow = null;
  on(EPOCH_DONE, (p) => { lastEpoch = p; });
  on(GRAD_FLOW, (flow) => { lastFlow = flow; });
  on(TRAIN_STATE, (state) => {
    if (["done", "error"].includes(state) && runEnded) { runEnded(state); runEnded = null; }
  });

  /** The check on Part 1's case changed by `values`; resolves to its report. */
  const runCheck = (values) => gradcheck.runCase(values);
  /** A short run with `settings`; resolves to its last epoch's record, or to what stopped it. */
  function runBrief(settings) {
    lastEpoch = null;
    return new Promise((resolve, reject) => {
      runEnded = (state) => resolve(state === "done" ? { epoch: lastEpoch } : { epoch: null, failure: training.failure() });
      if (!training.trainBrief({ ...settings, epochs: "1", train_limit: BRIEF_LIMIT })) {
        runEnded = null;
        reject({ code: "ls_busy_train", args: [] });
      }
    });
  }
  const preset = (name) => presets().find((p) => p.name === name).values;
  const sampleIndex = () => /** @type {HTMLInputElement} */ (document.querySelector('[data-testid="step-index"]')).value;
  /** The steps on the page's model need the assignment's net: another would not fit the question. */
  const needModel = () => {
    if (!lab.has_model() && !training.ensureModel()) throw { code: "step_no_model", args: [] };
    const fits = lab.lesson_model();
    if (!fits.ok) throw fits;
  };

  // A link from a revealed step to where it happened, and a way back to the step.
  const back = /** @type {HTMLButtonElement} */ (el("button", "lesson-back"));
  Object.assign(back, { type: "button", hidden: true });
  back.dataset.testid = "lesson-back";
  document.body.append(back);
  /** The step (its id) the student left by a link: the back button returns to its card. */
  let leftFrom = null;
  const cardOf = (id) => /** @type {HTMLElement} */ (list.querySelector(`.lesson-step[data-step="${id}"]`));
  const showBack = () => {
    back.hidden = !leftFrom;
    if (leftFrom) back.textContent = t("ls_back", [cardOf(leftFrom).dataset.number]);
  };
  back.addEventListener("click", () => {
    const card = cardOf(leftFrom);
    leftFrom = null;
    showBack();
    scrollToView(card, "center");
    /** @type {HTMLElement} */ (card.querySelector('[data-testid="lesson-reveal"]')).focus({ preventScroll: true });
  });
  // Back at the lesson by any way: the button has done its work.
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && leftFrom) { leftFrom = null; showBack(); }
  }).observe(document.getElementById("lesson-title"));
  /** A link (`key`, `args`) that runs `go` to show the place, then offers the way back. */
  const see = (key, args, go) => () => {
    const link = /** @type {HTMLButtonElement} */ (el("button", "link lesson-see", `${t(key, args)} ↓`));
    Object.assign(link, { type: "button" });
    link.dataset.testid = "lesson-see";
    link.addEventListener("click", () => {
      leftFrom = /** @type {HTMLElement} */ (link.closest(".lesson-step")).dataset.step;
      go();
      // After the scroll has begun, so the lesson's title leaving view does not hide it.
      setTimeout(showBack, 50);
    });
    const line = el("p");
    line.append(link);
    return line;
  };
  onLanguageChange(showBack);
  const place = (id) => () => scrollToView(document.getElementById(id));
  const seeCheck = see("ls_see_check", [], place("gradcheck-result"));
  const seeTrain = see("ls_see_train", [], place("loss-chart"));

  /**
   * The computations that reveal, by the name a step gives. Each runs Rust (directly or
   * through a section), opens that section, and returns what to show: a function that
   * builds it in the page's language. `say(key, args)` tells progress meanwhile.
   * @type {Record<string, (args: Record<string, string>, say: (key: string, args?: unknown[]) => void) => Promise<() => Node[]>>}
   */
  const REVEALS = {
    async shapes() {
      needModel();
      const view = lab.inspect_test(sampleIndex(), "none", training.learningRate());
      if (!view.ok) throw view;
      const card = (name) => [...view.forward, ...view.backward].find((c) => c.name === name);
      const [grad, gradFc, input] = [card("layers.0.weight.grad"), card("grad_fc0"), card("input")];
      stepPanel.select(view.index);
      const link = see("ls_see_step", [grad.name], () => stepPanel.pointTo(grad.name));
      return () => {
        const shown = el("p", "", t("ls_shapes_reveal", [shapeText(grad.shape), view.index]));
        shown.dataset.testid = "lesson-shape";
        shown.dataset.shape = grad.shape.join("x");
        return [shown, el("p", "math", grad.equation),
          el("p", "", t("ls_shapes_batch", [shapeText(gradFc.shape), shapeText(input.shape), grad.shape[0], grad.shape[1]])), link()];
      };
    },
    async chain(args) {
      needModel();
      const rule = lab.chain_rule(sampleIndex(), args.which);
      if (!rule.ok) throw rule;
      stepPanel.select(rule.index);
      const name = `${rule.tensor}.grad`;
      const link = see("ls_see_step", [name], () => stepPanel.pointTo(name));
      return () => [chainView(rule, args.which), link()];
    },
    async check(args) {
      const report = await runCheck({ bug: args.bug });
      return () => [el("p", "", t("ls_check_reveal", [t(`bug_${args.bug}_name`)])), rowsView(report), seeCheck()];
    },
    async biasBatch(_, say) {
      say("ls_checking", [1, 2]);
      const one = await runCheck({ bug: "bias_mean" });
      say("ls_checking", [2, 2]);
      const batch = await runCheck({ bug: "bias_mean", sample_kind: "batch", batch: "8" });
      return () => [el("p", "", t("ls_bias_reveal_one")), rowsView(one),
        el("p", "", t("ls_bias_reveal_batch")), rowsView(batch), el("p", "", t("ls_bias_reveal_why")), seeCheck()];
    },
    async lossDown(_, say) {
      const bugs = ["grad_output_sign", "", "no_sigmoid_derivative"];
      const runs = [];
      for (const [i, bug] of bugs.entries()) {
        say("ls_training", [i + 1, bugs.length]);
        runs.push({ bug, ...await runBrief({ ...preset("fast"), act: "sigmoid", bug }) });
      }
      return () => [runsView(runs, (r) => t(r.bug ? `bug_${r.bug}_name` : "chart_run_right")), el("p", "", t("ls_loss_reveal")), seeTrain()];
    },
    async learningRate(_, say) {
      const rates = ["0.01", "0.5"];
      const runs = [];
      for (const [i, lr] of rates.entries()) {
        say("ls_training", [i + 1, rates.length]);
        runs.push({ lr, ...await runBrief({ ...preset("assignment"), lr }) });
      }
      return () => [el("p", "", t("ls_lr_reveal_runs", [BRIEF_LIMIT])), runsView(runs, (r) => `lr ${r.lr}`), el("p", "", t("ls_lr_reveal")), seeTrain()];
    },
    async deepSigmoid(_, say) {
      say("ls_training", [1, 1]);
      lastFlow = null;
      const { epoch } = await runBrief(preset("deep_sigmoid"));
      const flow = lastFlow;
      const link = see("ls_see_flow", [], place("flow-chart"));
      return () => {
        if (!flow) return [el("p", "bad", t("ls_run_failed"))];
        const rows = el("ul", "lesson-rows");
        rows.dataset.testid = "lesson-flow";
        flow.gradNorms.forEach((norm, i) => {
          const li = el("li", "", t("ls_run_row", [i < flow.gradNorms.length - 1 ? `layers.${i}` : "output_layer", `‖dL/dW‖₂ = ${figure(norm)}`]));
          li.dataset.norm = String(norm);
          rows.append(li);
        });
        const accuracy = epoch ? [t("ls_deep_accuracy", [epoch.testAccuracy.toFixed(2)])] : [];
        return [el("p", "", t("ls_deep_reveal")), rows, el("p", "", [t("ls_deep_why"), ...accuracy].join(t("ls_between"))), link()];
      };
    },
  };

  /** The chain rule for one weight: the formula, one line per term, and the three values. */
  function chainView(rule, which) {
    const box = el("div", "lesson-chain");
    Object.assign(box.dataset, { testid: "lesson-chain", tensor: rule.tensor, row: String(rule.row), col: String(rule.col),
      index: String(rule.index), grad: String(rule.backward) });
    const weight = `${rule.tensor}[${rule.row}, ${rule.col}]`;
    box.append(el("p", "", t(which === "output" ? "ls_chain_output" : "ls_chain_first", [weight, rule.index, rule.label])));
    box.append(el("p", "math", `∂L/∂${weight} = ${rule.terms[0].written}${rule.terms.length > 1 ? " + …" : ""}`));
    const terms = el("ol", "lesson-terms");
    terms.start = 0;
    rule.terms.forEach((term, k) => {
      const li = el("li", "math");
      term.factors.forEach((f, i) => {
        const factor = el("span", "", `(${f.name} = ${formatNumber(f.value)})`);
        Object.assign(factor.dataset, { factor: f.name, value: String(f.value) });
        li.append(...(i > 0 ? [" · "] : []), factor);
      });
      li.append(` = ${formatNumber(term.value)}`);
      Object.assign(li.dataset, { term: String(k), value: String(term.value) });
      terms.append(li);
    });
    box.append(terms);
    const sum = el("p", "", t("ls_chain_values", [formatNumber(rule.sum), formatNumber(rule.backward), formatNumber(rule.numeric)]));
    sum.dataset.numeric = String(rule.numeric);
    box.append(sum);
    if (which === "blank") box.append(el("p", "", t("ls_blank_reveal", [rule.col])));
    if (which === "first") box.append(el("p", "", t("ls_first_reveal", [rule.col])));
    return box;
  }

  /** A check's rows: name, pass or fail, the error. */
  function rowsView(report) {
    const rows = el("ul", "lesson-rows");
    rows.dataset.testid = "lesson-check-rows";
    for (const row of report.rows) {
      const li = el("li", row.passed ? "ok" : "bad", `${row.passed ? "✓" : "✗"} ${t("ls_row",
        [row.name === "input" ? t("gc_input_row") : row.name, t(row.passed ? "pass" : "fail"), figure(row.errorNorm)])}`);
      Object.assign(li.dataset, { param: row.name, pass: String(row.passed) });
      rows.append(li);
    }
    return rows;
  }

  /** Short runs side by side: each one's test accuracy and mean loss, or what stopped it. */
  function runsView(runs, name) {
    const rows = el("ul", "lesson-rows");
    rows.dataset.testid = "lesson-runs";
    for (const run of runs) {
      const li = el("li", run.epoch ? "" : "bad", t("ls_run_row", [name(run), outcome(run)]));
      if (run.epoch) li.dataset.accuracy = String(run.epoch.testAccuracy);
      else if (isDivergence(run.failure)) Object.assign(li.dataset, { batch: String(run.failure.args[1]), loss: String(run.failure.args[2]) });
      rows.append(li);
    }
    return rows;
  }
  const isDivergence = (failure) => ["train_diverged", "train_diverged_bug"].includes(failure?.code);
  /** A run's result in words: its accuracy and loss, the batch and loss where it blew up, or that it failed. */
  function outcome(run) {
    if (run.epoch) return t("ls_run_result", [figure(run.epoch.testAccuracy), figure(run.epoch.avgLoss)]);
    if (isDivergence(run.failure)) return t("ls_run_diverged", [run.failure.args[1], figure(Number(run.failure.args[2]))]);
    return t("ls_run_failed");
  }

  /** One step's card, in the state `progress` holds for it. */
  function stepCard(step, number) {
    const card = el("article", "lesson-step");
    Object.assign(card.dataset, { testid: "lesson-step", step: step.id, number: String(number) });
    const qid = `lesson-q-${step.id}`;
    card.innerHTML = `<h3></h3><p class="lesson-context caption" hidden></p><p class="lesson-question"></p><div class="lesson-choices" role="group"></div>
      <p class="lesson-feedback" data-testid="lesson-feedback" aria-live="polite"></p>
      <div class="controls"><button type="button" data-testid="lesson-reveal"></button></div>
      <div class="lesson-result" aria-live="polite"></div>`;
    card.querySelector("h3").textContent = `${number} · ${t(step.title)}`;
    const question = card.querySelector(".lesson-question");
    question.id = qid;
    question.textContent = t(step.question);
    const group = card.querySelector(".lesson-choices");
    group.setAttribute("aria-labelledby", qid);
    const label = (c) => (c.literal ?? t(c.text));
    if (step.kind === "one") {
      for (const c of step.choices) {
        const b = /** @type {HTMLButtonElement} */ (el("button", "secondary lesson-choice", label(c)));
        Object.assign(b, { type: "button" });
        Object.assign(b.dataset, { testid: "lesson-choice", choice: c.id });
        if (c.literal) b.classList.add("code");
        b.addEventListener("click", () => answer(step, card, [c.id]));
        group.append(b);
      }
      // Arrow keys move between the choices, as in a toolbar.
      group.addEventListener("keydown", (event) => {
        const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
        if (!(event.key in moves)) return;
        const buttons = [...group.querySelectorAll("button")];
        const at = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
        if (at < 0) return;
        event.preventDefault();
        buttons[(at + moves[event.key] + buttons.length) % buttons.length].focus();
      });
    } else {
      for (const c of step.choices) {
        const l = el("label", "lesson-tick");
        const box = /** @type {HTMLInputElement} */ (el("input"));
        Object.assign(box, { type: "checkbox", value: c.id });
        box.dataset.testid = "lesson-choice";
        l.append(box, el(c.literal ? "code" : "span", "", label(c)));
        group.append(l);
      }
      const submit = el("button", "secondary", t("ls_answer"));
      Object.assign(submit, { type: "button" });
      submit.dataset.testid = "lesson-answer";
      submit.addEventListener("click", () => {
        const ticked = [...group.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
        if (ticked.length > 0) return answer(step, card, ticked);
        const feedback = /** @type {HTMLElement} */ (card.querySelector('[data-testid="lesson-feedback"]'));
        feedback.dataset.verdict = "wrong";
        feedback.textContent = t("ls_tick_first");
      });
      group.append(submit);
    }
    const reveal = /** @type {HTMLButtonElement} */ (card.querySelector('[data-testid="lesson-reveal"]'));
    reveal.addEventListener("click", () => { if (!reveal.dataset.busy) revealStep(step, card); });
    show(step, card);
    return card;
  }

  /** What a step computes on, said before the question: the test image, or that it trains. */
  function context(step) {
    if (["shapes", "chain"].includes(step.reveal)) return t("ls_image", [sampleIndex()]);
    if (["lossDown", "learningRate", "deepSigmoid"].includes(step.reveal)) return t("ls_trains_here");
    return "";
  }

  /** The card as `progress` says: the prediction, its feedback, whether it was revealed. */
  function show(step, card) {
    const said = /** @type {HTMLElement} */ (card.querySelector(".lesson-context"));
    said.textContent = context(step);
    said.hidden = !said.textContent;
    const picked = progress.answers[step.id];
    const revealed = !!progress.revealed[step.id];
    card.dataset.state = revealed ? "revealed" : picked ? "answered" : "ask";
    for (const c of /** @type {NodeListOf<HTMLElement>} */ (card.querySelectorAll('[data-testid="lesson-choice"]'))) {
      const id = c instanceof HTMLInputElement ? c.value : c.dataset.choice;
      if (c instanceof HTMLInputElement) c.checked = !!picked?.includes(id);
      else c.setAttribute("aria-pressed", String(!!picked?.includes(id)));
    }
    const feedback = /** @type {HTMLElement} */ (card.querySelector('[data-testid="lesson-feedback"]'));
    const verdict = picked ? judge(step, picked) : null;
    if (verdict) {
      feedback.dataset.verdict = verdict.right ? "right" : "wrong";
      feedback.textContent = `${t(verdict.right ? "ls_right" : "ls_wrong")}${verdict.keys.map((k) => t(k)).join(t("ls_between"))}`;
    } else {
      delete feedback.dataset.verdict;
      feedback.textContent = "";
    }
    const reveal = /** @type {HTMLButtonElement} */ (card.querySelector('[data-testid="lesson-reveal"]'));
    if (!reveal.dataset.busy) reveal.disabled = !picked;
    reveal.textContent = t(!picked ? "ls_reveal_wait" : views.has(step.id) ? "ls_reveal_again" : "ls_reveal");
    const result = card.querySelector(".lesson-result");
    if (views.has(step.id)) result.replaceChildren(...views.get(step.id)());
    else if (revealed && !reveal.dataset.busy) {
      const onModel = ["shapes", "chain"].includes(step.reveal);
      result.replaceChildren(el("p", "caption", t(onModel ? "ls_revealed_before_model" : "ls_revealed_before")));
    }
  }

  /** Right or wrong, and the sentences the picked (or, ticked, each mis-set) choices earn. */
  function judge(step, picked) {
    if (step.kind === "one") {
      const c = step.choices.find((x) => x.id === picked[0]);
      return c ? { right: c.right, keys: [c.feedback] } : null;
    }
    const wrong = step.choices.filter((c) => picked.includes(c.id) !== c.right);
    return wrong.length === 0 ? { right: true, keys: ["ls_rows_fb_right"] } : { right: false, keys: [...new Set(wrong.map((c) => c.feedback))] };
  }

  function answer(step, card, picked) {
    progress.answers[step.id] = picked;
    save();
    show(step, card);
    updateProgress();
  }

  async function revealStep(step, card) {
    const reveal = /** @type {HTMLButtonElement} */ (card.querySelector('[data-testid="lesson-reveal"]'));
    const result = card.querySelector(".lesson-result");
    const say = (key, args = []) => result.replaceChildren(el("p", "caption", t(key, args)));
    // Busy, yet focused: a disabled button would drop the keyboard's place to the page.
    reveal.dataset.busy = "true";
    reveal.setAttribute("aria-disabled", "true");
    say("ls_computing");
    try {
      views.set(step.id, await REVEALS[step.reveal](step.args ?? {}, say));
      progress.revealed[step.id] = true;
      save();
    } catch (problem) {
      if (problem?.code === undefined) throw problem;
      views.delete(step.id);
      result.replaceChildren(el("p", "bad", t(problem.code, problem.args ?? [])));
    } finally {
      delete reveal.dataset.busy;
      reveal.removeAttribute("aria-disabled");
    }
    if (views.has(step.id)) show(step, card);
    updateProgress();
  }

  function updateProgress() {
    const done = STEPS.filter((s) => progress.revealed[s.id]).length;
    progressLine.textContent = t("ls_progress", [done, STEPS.length]);
    list.hidden = progress.skipped;
    root.dataset.skipped = String(progress.skipped);
    skip.textContent = t(progress.skipped ? "ls_take" : "ls_skip");
    skip.setAttribute("aria-expanded", String(!progress.skipped));
  }

  function build() {
    list.replaceChildren(...STEPS.map((s, i) => {
      const li = el("li");
      li.append(stepCard(s, i + 1));
      return li;
    }));
    updateProgress();
  }

  skip.addEventListener("click", () => {
    progress.skipped = !progress.skipped;
    save();
    updateProgress();
    if (progress.skipped) document.getElementById("gradcheck").scrollIntoView({ behavior: "smooth", block: "start" });
  });
  restart.addEventListener("click", () => {
    progress = { answers: {}, revealed: {}, skipped: false };
    views.clear();
    save();
    build();
    list.querySelector("button")?.focus();
  });
  onLanguageChange(build);
  // Back at the lesson, perhaps with another image picked in the step panel: say which.
  new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    list.querySelectorAll(".lesson-step").forEach((card, i) => {
      const said = /** @type {HTMLElement} */ (card.querySelector(".lesson-context"));
      said.textContent = context(STEPS[i]);
    });
  }).observe(list);
}
