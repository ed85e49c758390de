// Files exchanged with the notebook, in the real release build and real Chromium:
// weights out and back in, broken files, and a student's gradient bundle.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { servedBuildAndBrowser, openPage, screenshot, ROOT } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-lab-notebook-"));

/** A safetensors file as `save_file` writes it: [name, dtype, shape, bytes] entries. */
function safetensors(entries, metadata = null) {
  const header = {};
  let offset = 0;
  for (const [name, dtype, shape, bytes] of entries) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  if (metadata) header.__metadata__ = metadata;
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...entries.map((e) => e[3])]);
}
const f64 = (values) => Buffer.from(new Float64Array(values).buffer);
const f32 = (values) => Buffer.from(new Float32Array(values).buffer);

function save(name, bytes) {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** The notebook's Part 1 bundle from PyTorch's fixture, each gradient passed through `change`. */
function part1Bundle(change = (name, g) => g) {
  const f = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/fixtures/pytorch/batch8_mse.json"), "utf8"));
  const entries = Object.entries(f.params).map(([name, t]) => [name, "F64", t.shape, f64(t.data)]);
  for (const [name, t] of Object.entries(f.grads)) entries.push([`grad.${name}`, "F64", t.shape, f64(change(name, t.data))]);
  entries.push(["input", "F64", f.x.shape, f64(f.x.data)], ["target", "F64", f.y.shape, f64(f.y.data)]);
  return safetensors(entries, { loss: "mse" });
}

async function ready(page) {
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
}

async function loaded(page, file) {
  await page.setInputFiles('[data-testid="weights-import"]', file);
  await page.waitForSelector('[data-testid="weights-status"][data-test-accuracy]', { timeout: 60_000 });
  return page.getAttribute('[data-testid="weights-status"]', "data-test-accuracy");
}

test("weights exported after a run load into a fresh page with the same accuracy; broken files change nothing", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=6400&epochs=1&lr=0.5&batch=64&hidden=64,32`);
  await ready(page);
  assert.equal(await page.isDisabled('[data-testid="weights-export"]'), true, "no model yet");
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const accuracy = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")).toFixed(2);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="weights-export"]')]);
  assert.equal(download.suggestedFilename(), "mlp-784-64-32-10-epoch1.safetensors");
  const exported = path.join(scratch, download.suggestedFilename());
  await download.saveAs(exported);
  await page.close();

  const { page: fresh, errors: freshErrors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await ready(fresh);
  assert.equal(await loaded(fresh, exported), accuracy, "the same test accuracy as the run that saved it");
  const status = fresh.locator('[data-testid="weights-status"]');
  assert.equal(await status.getAttribute("data-state"), "loaded");
  assert.equal(await status.getAttribute("data-arch"), "784-64-32-10");
  assert.match(await status.textContent(), /stored as F32/);
  assert.equal(await fresh.inputValue('[data-testid="tr-hidden"]'), "64,32", "the form shows the model's layers");
  // The step panel uses it.
  await fresh.click('[data-testid="step-run"]');
  await fresh.waitForSelector('[data-testid="step-tensor"][data-name="fc1"][data-shape="1x32"]');
  assert.match(await fresh.textContent("#step-summary"), /imported from a file \(784-64-32-10\)/);
  const norm = await fresh.getAttribute('[data-testid="step-tensor"][data-name="output"]', "data-norm");

  // Broken files: a message each, and the model as it was.
  const bytes = fs.readFileSync(exported);
  const truncated = save("truncated.safetensors", bytes.subarray(0, bytes.length - 100));
  await fresh.setInputFiles('[data-testid="weights-import"]', truncated);
  await fresh.waitForSelector('[data-testid="weights-error"]:not([hidden])');
  assert.match(await fresh.textContent('[data-testid="weights-error"]'), /^truncated\.safetensors: .*cut short/);
  const wrongShape = save("wrong-shape.safetensors", safetensors([
    ["layers.0.weight", "F32", [8, 784], f32(new Array(8 * 784).fill(0))], ["layers.0.bias", "F32", [8], f32(new Array(8).fill(0))],
    ["output_layer.weight", "F32", [10, 9], f32(new Array(90).fill(0))], ["output_layer.bias", "F32", [10], f32(new Array(10).fill(0))],
  ]));
  await fresh.setInputFiles('[data-testid="weights-import"]', wrongShape);
  await fresh.waitForFunction(() => /wrong-shape/.test(document.querySelector('[data-testid="weights-error"]').textContent));
  assert.match(await fresh.textContent('[data-testid="weights-error"]'), /output_layer\.weight has shape \[10, 9\]; the chain of layers needs \[10, 8\]/);
  const prefixed = save("wrapped.safetensors", safetensors([
    ["model.output_layer.weight", "F32", [10, 784], f32(new Array(7840).fill(0))], ["model.output_layer.bias", "F32", [10], f32(new Array(10).fill(0))],
  ], { note: "<img src=x onerror=alert(1)>" }));
  await fresh.setInputFiles('[data-testid="weights-import"]', prefixed);
  await fresh.waitForFunction(() => /wrapped/.test(document.querySelector('[data-testid="weights-error"]').textContent));
  assert.match(await fresh.textContent('[data-testid="weights-error"]'), /start with “model\.”/);
  assert.equal(await status.getAttribute("data-test-accuracy"), accuracy, "the loaded model stays");
  assert.equal(await fresh.getAttribute('[data-testid="step-tensor"][data-name="output"]', "data-norm"), norm);
  await screenshot(fresh, "weights-loaded", '[data-testid="weights-panel"]');

  // Continue training from it, with the form's settings.
  await fresh.fill('[data-testid="tr-epochs"]', "1");
  await fresh.fill('[data-testid="tr-limit"]', "6400");
  await fresh.fill('[data-testid="tr-hidden"]', "64");
  await fresh.click('[data-testid="train-continue"]');
  assert.match(await fresh.textContent('[data-error-for="hidden"]'), /keeps the model's layers: set the field back to 64,32/);
  await fresh.fill('[data-testid="tr-hidden"]', "64,32");
  await fresh.click('[data-testid="train-continue"]');
  await fresh.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const after = Number(await fresh.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
  assert.ok(after > Number(accuracy), `it went on from the loaded model: ${after}% after, ${accuracy}% before`);
  assert.deepEqual([...errors, ...freshErrors], []);
  await fresh.close();
});

test("a student's bundle: the right gradients pass, a seeded mistake fails its rows with a hint, a dropped bundle is checked too", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.click('[data-testid="bundle-panel"] summary');
  assert.match(await page.textContent("#bundle-snippet"), /save_file\(bundle, "my_backward\.safetensors"/);
  await page.setInputFiles('[data-testid="bundle-import"]', save("my_backward.safetensors", part1Bundle()));
  await page.waitForSelector('[data-testid="gradcheck-table"] tr[data-source="notebook"]');
  const rows = () => page.$$eval('[data-testid="gradcheck-table"] tbody tr', (trs) =>
    trs.map((tr) => ({ name: tr.dataset.param, pass: tr.dataset.pass === "true", source: tr.dataset.source, error: Number(tr.dataset.error) })));
  const right = await rows();
  assert.equal(right.length, 6);
  assert.ok(right.every((r) => r.pass && r.source === "notebook" && r.error < 1e-6), JSON.stringify(right));
  assert.match(await page.textContent('[data-testid="gradcheck-summary"]'), /my_backward\.safetensors: MSE \(mean\), input \(8, 32\).*6 of 6/);
  assert.equal(await page.isHidden('[data-testid="bundle-hint"]'), true);

  // grad.mean(0) for every bias: the biases fail, and the hint says why.
  const meaned = save("meaned.safetensors", part1Bundle((name, g) => (name.endsWith(".bias") ? g.map((v) => v / 8) : g)));
  await page.setInputFiles('[data-testid="bundle-import"]', meaned);
  await page.waitForSelector('[data-testid="bundle-hint"]:not([hidden])');
  const failed = (await rows()).filter((r) => !r.pass).map((r) => r.name);
  assert.deepEqual(failed, ["layers.0.bias", "layers.1.bias", "output_layer.bias"]);
  assert.match(await page.textContent('[data-testid="bundle-hint"]'), /grad\.sum\(0\)/);
  await screenshot(page, "bundle-hint", "#gradcheck");

  // Dropped on the page, a bundle goes to the check: here one with its sign flipped.
  const flipped = part1Bundle((name, g) => g.map((v) => -v));
  const drop = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], "flipped.safetensors"));
    return dt;
  }, [...flipped]);
  await page.dispatchEvent("body", "drop", { dataTransfer: drop });
  await page.waitForFunction(() => /flipped/.test(document.getElementById("gradcheck-summary").textContent));
  assert.match(await page.textContent('[data-testid="bundle-hint"]'), /exactly the negative/);
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="bundle-hint"]'), /相反数/);
  await page.click('[data-testid="lang-toggle"]');
  assert.equal((await rows()).filter((r) => r.pass).length, 0);

  // A broken bundle: its message, and the last file's table and hint go with it.
  const noTarget = safetensors([["input", "F64", [32], f64(new Array(32).fill(0))]]);
  await page.setInputFiles('[data-testid="bundle-import"]', save("broken.safetensors", noTarget));
  await page.waitForSelector('[data-testid="bundle-error"]:not([hidden])');
  assert.match(await page.textContent('[data-testid="bundle-error"]'), /^broken\.safetensors: The bundle holds no gradients/);
  assert.equal(await page.isHidden('[data-testid="gradcheck-table"]'), true);
  assert.equal(await page.isHidden('[data-testid="bundle-hint"]'), true);
  // And in Chinese.
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="bundle-error"]'), /broken\.safetensors：梯度包中没有梯度/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("Load weights… and Load my bundle… look like the buttons beside them", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.click('[data-testid="bundle-panel"] summary');
  const look = (selector) => page.$eval(selector, (el) => {
    const s = getComputedStyle(el);
    return { fontSize: s.fontSize, padding: s.padding, height: Math.round(el.getBoundingClientRect().height),
      background: s.backgroundColor, border: s.border, radius: s.borderRadius, color: s.color };
  });
  for (const [button, picker] of [["weights-export", "weights-import"], ["bundle-copy", "bundle-import"]]) {
    await page.$eval(`[data-testid="${button}"]`, (b) => { /** @type {HTMLButtonElement} */ (b).disabled = false; });
    const label = `label:has([data-testid="${picker}"])`;
    assert.deepEqual(await look(label), await look(`[data-testid="${button}"]`), `${picker} beside ${button}`);
  }
  await screenshot(page, "file-buttons");
  assert.deepEqual(errors, []);
  await page.close();
});

/** A safetensors file's `__metadata__`. */
function metadataOf(file) {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")).__metadata__;
}

test("weights saved while paused inside an epoch name their batch and carry their own test accuracy", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&epochs=2&lr=0.5&batch=8&hidden=256`);
  await ready(page);
  // 256 units, not fewer: an epoch must last long enough (about 2 s) to be paused inside.
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="epoch-table"] tbody tr', { timeout: 120_000 });
  await page.waitForFunction(() => {
    const bar = /** @type {HTMLProgressElement} */ (document.getElementById("epoch-progress"));
    return bar.value >= 100 && bar.value < bar.max / 2;
  }, null, { polling: 10 });
  await page.click('[data-testid="train-pause"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="paused"]');
  const epochOne = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")).toFixed(2);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="weights-export"]')]);
  assert.match(download.suggestedFilename(), /^mlp-784-256-10-epoch2-batch\d+\.safetensors$/);
  const batch = download.suggestedFilename().match(/batch(\d+)/)[1];
  const file = path.join(scratch, "paused.safetensors");
  await download.saveAs(file);
  const metadata = metadataOf(file);
  assert.equal(metadata.within_epoch, `epoch 2, batch ${batch} of 7500`);
  assert.match(await page.textContent('[data-testid="weights-status"]'), new RegExp(`test accuracy ${metadata.test_accuracy}%`));
  await page.close();

  const { page: fresh } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await ready(fresh);
  const accuracy = await loaded(fresh, file);
  assert.equal(metadata.test_accuracy, accuracy, "the file's label is the accuracy of the weights it holds");
  assert.notEqual(metadata.test_accuracy, epochOne, "not the last finished epoch's");
  assert.deepEqual(errors, []);
  await fresh.close();
});

test("Load my bundle: grad.input is checked as the input row, a wrong activation is named, a weights file goes to Load weights", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await ready(page);
  await page.click('[data-testid="bundle-panel"] summary');
  const rows = () => page.$$eval('[data-testid="gradcheck-table"] tbody tr', (trs) =>
    trs.map((tr) => ({ name: tr.dataset.param, pass: tr.dataset.pass === "true" })));
  const f = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/fixtures/pytorch/batch8_mse.json"), "utf8"));
  const params = Object.entries(f.params).map(([name, t]) => [name, "F64", t.shape, f64(t.data)]);
  const grads = Object.entries(f.grads).map(([name, t]) => [`grad.${name}`, "F64", t.shape, f64(t.data)]);
  const data = [["input", "F64", f.x.shape, f64(f.x.data)], ["target", "F64", f.y.shape, f64(f.y.data)]];

  // A zero grad.input: checked (not refused), as the input row, which alone fails.
  const zeroInput = ["grad.input", "F64", f.x.shape, f64(new Array(f.x.data.length).fill(0))];
  await page.setInputFiles('[data-testid="bundle-import"]', save("with_input.safetensors", safetensors([...params, ...grads, ...data, zeroInput], { loss: "mse" })));
  await page.waitForFunction(() => /with_input/.test(document.getElementById("gradcheck-summary").textContent));
  const found = await rows();
  assert.equal(found.at(-1).name, "input");
  assert.deepEqual(found.filter((r) => !r.pass).map((r) => r.name), ["input"]);
  assert.equal(await page.isHidden('[data-testid="bundle-error"]'), true);

  // A sigmoid model's bundle saved with activation: relu.
  await page.setInputFiles('[data-testid="bundle-import"]', save("relu_named.safetensors", safetensors([...params, ...grads, ...data], { loss: "mse", activation: "relu" })));
  await page.waitForSelector('[data-testid="bundle-hint"]:not([hidden])');
  assert.match(await page.textContent('[data-testid="bundle-hint"]'), /right for a sigmoid net: the bundle's metadata says activation: relu/);
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="bundle-hint"]'), /对 sigmoid 网络都是对的/);
  await page.click('[data-testid="lang-toggle"]');

  // A weights file given to Load my bundle: it loads as weights.
  const weightsFile = save("weights_given_as_bundle.safetensors", safetensors([
    ["layers.0.weight", "F32", [8, 784], f32(new Array(8 * 784).fill(0.01))], ["layers.0.bias", "F32", [8], f32(new Array(8).fill(0))],
    ["output_layer.weight", "F32", [10, 8], f32(new Array(80).fill(0.01))], ["output_layer.bias", "F32", [10], f32(new Array(10).fill(0))],
  ]));
  await page.setInputFiles('[data-testid="bundle-import"]', weightsFile);
  await page.waitForSelector('[data-testid="weights-status"][data-state="loaded"][data-test-accuracy]', { timeout: 60_000 });
  assert.equal(await page.getAttribute('[data-testid="weights-status"]', "data-arch"), "784-8-10");
  assert.match(await page.textContent('[data-testid="bundle-error"]'), /went to Load weights/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the load-these-weights snippet follows the page's model: its hidden dims, its file and its activation", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=6400&epochs=1&lr=0.005&hidden=32&act=relu&opt=adam`);
  await ready(page);
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const snippet = () => page.textContent("#weights-snippet");
  const text = await snippet();
  assert.match(text, /CustomMLP_relu\(784, \[32\], 10\)/);
  assert.match(text, /x = torch\.relu\(layer\(x\)\)/);
  assert.match(text, /load_file\("mlp-784-32-10-epoch1\.safetensors"\)/);
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await snippet(), /不是笔记本的 sigmoid/);
  await page.click('[data-testid="lang-toggle"]');
  // A sigmoid model: the notebook's CustomMLP as it is.
  await page.fill('[data-testid="tr-hidden"]', "16");
  await page.selectOption('[data-testid="tr-act"]', "sigmoid");
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  assert.match(await snippet(), /model = CustomMLP\(784, \[16\], 10\)\nmodel\.load_state_dict\(load_file\("mlp-784-16-10-epoch1\.safetensors"\)\)/);
  assert.deepEqual(errors, []);
  await page.close();
});
