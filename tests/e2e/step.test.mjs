// "Inside one step" and "Break the backward", in the real release build with the real
// MNIST test set, in real Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import zlib from "node:zlib";
import path from "node:path";
import { servedBuildAndBrowser, openPage, screenshot, sidewaysOverflow, drawStrokes, line, DIST } from "./harness.mjs";

const shared = servedBuildAndBrowser();

const testImages = zlib.gunzipSync(fs.readFileSync(path.join(DIST, "data", "t10k-images-idx3-ubyte.gz")));
const testLabels = zlib.gunzipSync(fs.readFileSync(path.join(DIST, "data", "t10k-labels-idx1-ubyte.gz")));
/** The 2-norm of test image i as the network reads it (pixels / 255), from the file itself. */
function imageNorm(i) {
  let sum = 0;
  for (const v of testImages.subarray(16 + i * 784, 16 + (i + 1) * 784)) sum += (v / 255) ** 2;
  return Math.sqrt(sum);
}

async function ready(page) {
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
}

async function cards(page) {
  return page.$$eval('[data-testid="step-tensor"]', (els) => els.map((e) => ({ name: e.dataset.name, shape: e.dataset.shape, norm: Number(e.dataset.norm) })));
}

async function showTestImage(page, index) {
  await page.fill('[data-testid="step-index"]', String(index));
  await page.click('[data-testid="step-run"]');
  await page.waitForFunction((i) => document.getElementById("step").dataset.index === String(i), index);
}

async function check(page, bug, sampleKind) {
  await page.selectOption('[data-testid="break-backward"]', bug);
  await page.selectOption('[data-testid="gc-sample-kind"]', sampleKind);
  await page.click('[data-testid="gradcheck-run"]');
  const done = bug === "notebook_1d_transpose" && sampleKind === "single"
    ? '[data-testid="gradcheck-crash"]:not([hidden])'
    : '[data-testid="gradcheck-table"]:not([hidden])';
  await page.waitForSelector(done, { timeout: 60_000 });
  return page.$$eval('[data-testid="gradcheck-table"]:not([hidden]) tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.param, r.dataset.pass === "true"])));
}

test("the panel lays open test image 0 with the untrained model, every card in the notebook's order", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await ready(page);
  await page.click('[data-testid="step-run"]');
  await page.waitForSelector('[data-testid="step-tensor"]');
  const shown = await cards(page);
  assert.deepEqual(shown.map((c) => `${c.name} ${c.shape}`), [
    "input 1x784", "fc0 1x256", "sigmoid0 1x256", "output 1x10", "probs 1x10", "loss ",
    "grad_output 1x10", "output_layer.weight.grad 10x256", "output_layer.bias.grad 10",
    "grad_sigmoid0 1x256", "grad_fc0 1x256", "layers.0.weight.grad 256x784", "layers.0.bias.grad 256", "grad_input 1x784",
  ]);
  const norm = (name) => shown.find((c) => c.name === name).norm;
  assert.ok(Math.abs(norm("input") - imageNorm(0)) < 1e-6 * imageNorm(0), `${norm("input")} vs ${imageNorm(0)}: the real test image 0`);
  // One sample: bias.grad is grad itself, and the output layer's bias.grad is grad_output.
  assert.equal(norm("output_layer.bias.grad"), norm("grad_output"));
  assert.equal(norm("layers.0.bias.grad"), norm("grad_fc0"));
  assert.match(await page.textContent("#step-summary"), new RegExp(`Test image 0, a ${testLabels[8]};.*untrained`));
  assert.match(await page.textContent('[data-name="fc0"] .equation'), /fc0 = input · W0ᵀ \+ b0: \(1,784\)·\(784,256\) \+ \(256\)/);
  assert.match(await page.textContent('[data-name="layers.0.weight.grad"] .code'), /self\.layers\[0\]\.weight\.grad = grad\.T @ input/);

  // A cell's value and index, on hover.
  const mosaic = page.locator('[data-name="output_layer.weight.grad"] canvas');
  const box = await mosaic.boundingBox();
  await mosaic.hover({ position: { x: 3, y: box.height - 3 } }); // near the bottom-left corner
  assert.match(await page.textContent('[data-name="output_layer.weight.grad"] .readout'), /^output_layer\.weight\.grad\[9, [0-2]\] = -?\d/);

  // One SGD step on this sample with the form's lr lowers its loss.
  await page.click('[data-testid="step-sgd"]');
  const sgd = page.locator('[data-testid="step-sgd-result"]');
  assert.ok(Number(await sgd.getAttribute("data-loss-after")) < Number(await sgd.getAttribute("data-loss-before")));
  assert.match(await sgd.textContent(), /With lr 0\.01, .*: down/);

  // Keyboard: arrows step through the images, and a focused card keeps the focus; in the
  // index field they move the caret. Next, Previous and Random move too.
  await page.focus('[data-testid="step-tensor"][data-name="fc0"]');
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "1");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.name), "fc0", "the focus stays on its card");
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "2");
  await page.focus('[data-testid="step-index"]');
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.type("1");
  assert.equal(await page.inputValue('[data-testid="step-index"]'), "12", "the caret moved, not the image");
  // Up and down step from the field, as a number field's arrows do.
  await page.fill('[data-testid="step-index"]', "2");
  await page.keyboard.press("ArrowUp");
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "3");
  assert.equal(await page.inputValue('[data-testid="step-index"]'), "3");
  await page.keyboard.press("ArrowDown");
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "2");
  await page.fill('[data-testid="step-index"]', "1");
  await page.click('[data-testid="step-run"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "1");
  assert.ok(Math.abs((await cards(page))[0].norm - imageNorm(1)) < 1e-6 * imageNorm(1), "image 1 now");
  await page.click('[data-testid="step-prev"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "0");
  await page.click('[data-testid="step-prev"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "9999", null, { timeout: 5000 });

  // A misclassified one: the model's answer differs from the label.
  await page.click('[data-testid="step-misclassified"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index !== "9999");
  const summary = await page.textContent("#step-summary");
  const [, label, said] = summary.match(/a (\d);.*says (\d)/);
  assert.notEqual(label, said, summary);

  // Out of range is refused by the field, and nothing is lost; full-width digits are read.
  await page.fill('[data-testid="step-index"]', "10000");
  await page.click('[data-testid="step-run"]');
  assert.match(await page.textContent('.step-choose [data-error-for="step"]'), /10,?000.*9,?999/);
  await page.fill('[data-testid="step-index"]', "-1");
  await page.click('[data-testid="step-run"]');
  assert.match(await page.textContent('.step-choose [data-error-for="step"]'), /-1 is too small: the least allowed is 0/);
  await page.fill('[data-testid="step-index"]', "０3");
  await page.click('[data-testid="step-run"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "3");

  // A bug chosen in section 1 redraws the cards, and marks the line it writes wrong.
  await page.selectOption('[data-testid="break-backward"]', "bias_mean");
  await page.waitForSelector('[data-testid="step-tensor"][data-name="output_layer.bias.grad"][data-broken="true"]');
  assert.match(await page.textContent('[data-name="layers.0.bias.grad"] .code'), /grad\.mean\(0\)  # bug/);
  await page.click('[data-testid="step-sgd"]');
  assert.match(await page.textContent('[data-testid="step-sgd-result"]'), /does not make this backward right/);
  await page.selectOption('[data-testid="break-backward"]', "notebook_1d_transpose");
  await page.waitForSelector('[data-testid="step-crash"]:not([hidden])');
  assert.equal(await page.isHidden('[data-testid="step-sgd-result"]'), true, "no stale step under a crash");
  assert.match(await page.textContent('[data-testid="step-crash"]'), /already the fix[\s\S]*expected tensor \[10\] and src \[256\]/);
  await page.selectOption('[data-testid="break-backward"]', "none");
  await screenshot(page, "step-panel-untrained", "#step");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the drawn digit goes through the same step, in Chinese, and fits a phone", async () => {
  const context = shared.browser.context;
  const { page, errors } = await openPage(context, `${shared.server.url}?lang=zh`);
  await page.setViewportSize({ width: 375, height: 800 });
  await ready(page);
  await page.click('[data-testid="step-use-drawing"]');
  assert.match(await page.textContent('[data-testid="step-error"]'), /请先在第 3 部分写一个数字/);
  await drawStrokes(page, [line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  await page.click('[data-testid="step-use-drawing"]');
  await page.waitForFunction(() => document.getElementById("step").dataset.index === "drawing");
  assert.equal((await cards(page))[0].shape, "1x784");
  assert.match(await page.textContent("#step-summary"), /你写的数字/);
  assert.match(await page.textContent('[data-name="sigmoid0"] .what'), /激活值/);
  const overflow = await sidewaysOverflow(page);
  assert.equal(overflow.px, 0, JSON.stringify(overflow.elements));
  await screenshot(page, "step-panel-zh-375", "#step");
  assert.deepEqual(errors, []);
  await page.close();
});

test("each broken backward fails exactly its tensors in the page's gradient check", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  const hidden = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "input"];
  const all = [...hidden, "output_layer.weight", "output_layer.bias"];
  const failing = {
    none: { single: [], batch: [] },
    no_sigmoid_derivative: { single: hidden, batch: hidden },
    derivative_from_fc: { single: hidden, batch: hidden },
    bias_mean: { single: [], batch: ["layers.0.bias", "layers.1.bias", "output_layer.bias"] },
    fc_as_layer_input: { single: ["layers.1.weight", "output_layer.weight"], batch: ["layers.1.weight", "output_layer.weight"] },
    grad_output_sign: { single: all, batch: all },
    notebook_1d_transpose: { single: null, batch: [] },
  };
  for (const [bug, expected] of Object.entries(failing)) {
    for (const kind of ["single", "batch"]) {
      const rows = await check(page, bug, kind);
      if (expected[kind] === null) {
        assert.deepEqual(rows, {}, "a crash, not a table");
        assert.match(await page.textContent('[data-testid="gradcheck-crash"]'), /expected tensor \[2\] and src \[4\][\s\S]*x\.view\(1, -1\)/);
        continue;
      }
      assert.deepEqual(Object.keys(rows).sort(), [...all].sort(), `${bug} ${kind}`);
      const failed = Object.keys(rows).filter((name) => !rows[name]).sort();
      assert.deepEqual(failed, [...expected[kind]].sort(), `${bug} ${kind}`);
    }
    if (bug !== "none") assert.match(await page.textContent('[data-testid="bug-note"]'), /Bug|crash/);
  }
  assert.equal(await page.isHidden('[data-testid="bug-note"]'), false);
  await page.selectOption('[data-testid="break-backward"]', "no_sigmoid_derivative");
  await screenshot(page, "break-the-backward", "#gradcheck");
  assert.deepEqual(errors, []);
  await page.close();
});

test("training with a bug keeps the right run's curve beside it, and a flipped sign says it diverged", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=6400&epochs=1&lr=0.5&batch=64`);
  await ready(page);
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const right = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
  // The panel follows the trained model.
  await page.click('[data-testid="step-run"]');
  await page.waitForFunction(() => /trained\./.test(document.getElementById("step-summary").textContent) && !/untrained/.test(document.getElementById("step-summary").textContent));

  await page.selectOption('[data-testid="break-backward"]', "no_sigmoid_derivative");
  // The panel's select follows, and its cards show the broken pass.
  assert.equal(await page.inputValue('[data-testid="step-break-backward"]'), "no_sigmoid_derivative");
  await page.click('[data-testid="train-with-bug"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const chart = page.locator('[data-testid="loss-chart"]');
  assert.equal(await chart.getAttribute("data-previous-run"), "chart_run_right");
  assert.ok(Number(await chart.getAttribute("data-previous-points")) === 100, "the right run's 100 batches");
  assert.match(await page.textContent('[data-testid="train-bug"]'), /broken backward: Skip the sigmoid derivative/);
  assert.match(await page.textContent(".u-legend"), /Previous run \(sigmoid · SGD · lr 0\.5 · 256 · batch 64 · seed 1 · 6,400 images\)/);
  const broken = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
  // Without s(1 - s) (at most 1/4) the hidden layers take larger, wrong steps: it still learns.
  assert.ok(broken > 20 && broken !== right, `it still learns: ${broken}% against ${right}%`);
  await screenshot(page, "train-with-bug", "#train");

  await page.selectOption('[data-testid="break-backward"]', "grad_output_sign");
  await page.click('[data-testid="train-with-bug"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="error"]', { timeout: 120_000 });
  assert.match(await page.textContent('[data-testid="train-error"]'), /diverged.*the bug, not the learning rate/i);
  assert.equal(await chart.getAttribute("data-previous-run"), "bug_no_sigmoid_derivative_name");

  // A plain Start trains the right backward again.
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  assert.equal(await page.isHidden('[data-testid="train-bug"]'), true);
  assert.equal(Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")), right, "the same run as the first");
  assert.deepEqual(errors, []);
  await page.close();
});
