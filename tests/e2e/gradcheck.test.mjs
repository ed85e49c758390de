// The gradient-check section on the real release build, in real Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { servedBuildAndBrowser, openPage, screenshot, waitForText, pageRecordingLongTasks, startLongCheck, DIST } from "./harness.mjs";

const shared = servedBuildAndBrowser();

async function rows(page) {
  return page.$$eval('[data-testid="gradcheck-table"] tbody tr', (trs) =>
    trs.map((tr) => ({ param: tr.dataset.param, error: Number(tr.dataset.error), pass: tr.dataset.pass })));
}

test("the default (the notebook's Part 1) check passes every row", async () => {
  const { page, errors } = await openPage(shared.browser.context, shared.server.url);
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"] tbody tr');
  const found = await rows(page);
  assert.deepEqual(found.map((r) => r.param), [
    "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
    "output_layer.weight", "output_layer.bias", "input",
  ]);
  for (const row of found) {
    assert.equal(row.pass, "true", `${row.param} failed`);
    assert.ok(Number.isFinite(row.error) && row.error < 1e-6, `${row.param}: error ${row.error}`);
  }
  const outputError = Number(await page.getAttribute('[data-testid="gradcheck-summary"]', "data-output-error"));
  assert.ok(outputError < 1e-6, `output error ${outputError}`);
  await screenshot(page, "gradcheck-default");
  assert.deepEqual(errors, []);
});

test("a batched cross-entropy case passes, in Chinese", async () => {
  const { page, errors } = await openPage(shared.browser.context, shared.server.url);
  await page.click('[data-testid="lang-toggle"]');
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await page.fill('[data-testid="gc-input-dim"]', "20");
  await page.fill('[data-testid="gc-hidden-dims"]', "12,7");
  await page.fill('[data-testid="gc-output-dim"]', "5");
  await page.selectOption('[data-testid="gc-loss"]', "cross_entropy");
  await page.selectOption('[data-testid="gc-sample-kind"]', "batch");
  await page.fill('[data-testid="gc-batch"]', "16");
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"] tbody tr');
  const found = await rows(page);
  assert.equal(found.length, 7);
  assert.ok(found.every((r) => r.pass === "true" && r.error < 1e-6), JSON.stringify(found));
  assert.match(await page.textContent('[data-testid="gradcheck-summary"]'), /损失/);
  await screenshot(page, "gradcheck-batch-ce-zh");
  assert.deepEqual(errors, []);
});

test("the derivative line says where the activation's derivative comes from, for every activation, in both languages", async () => {
  for (const [lang, where] of [["en", "where"], ["zh", "其中"]]) {
    const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=${lang}`);
    await page.click('#gradcheck details.explain summary');
    const expected = {
      sigmoid: `∂ℓ/∂fci = ∂ℓ/∂ai ⊙ σ′(fci), ${where} σ′(fci) = ai(1 − ai)`,
      relu: `∂ℓ/∂fci = ∂ℓ/∂ai ⊙ relu′(fci), ${where} relu′(fci) = [fci > 0] (0 at fci = 0, as PyTorch)`,
      tanh: `∂ℓ/∂fci = ∂ℓ/∂ai ⊙ tanh′(fci), ${where} tanh′(fci) = 1 − ai2`,
    };
    for (const [act, line] of Object.entries(expected)) {
      await page.selectOption('[data-testid="gc-act"]', act);
      const shown = await page.$eval('[data-testid="gc-derivative"]', (p) => /** @type {HTMLElement} */ (p).innerText.replace(/\s+/g, " ").trim());
      assert.equal(shown, line, `${lang}, ${act}`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("the notebook's own 784-[256]-10 is spot-checked in seconds, and fails under a broken backward as small nets do", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.fill('[data-testid="gc-input-dim"]', "784");
  await page.fill('[data-testid="gc-hidden-dims"]', "256");
  await page.fill('[data-testid="gc-output-dim"]', "10");
  const run = async () => {
    await page.click('[data-testid="gradcheck-run"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="gradcheck-summary"]').dataset.spot === "20"
      && !document.querySelector('[data-testid="gradcheck-table"]').hidden, null, { timeout: 30_000 });
    return page.$$eval('[data-testid="gradcheck-table"] tbody tr', (trs) =>
      trs.map((tr) => ({ param: tr.dataset.param, pass: tr.dataset.pass, checked: tr.dataset.checked, worst: tr.dataset.worst, note: tr.cells[0].textContent })));
  };
  const started = Date.now();
  const right = await run();
  assert.ok(Date.now() - started < 20_000, "in seconds");
  assert.equal(await page.textContent('#gradcheck-form [data-error-for="input_dim"]'), "", "no refusal");
  assert.deepEqual(right.map((r) => r.param), ["layers.0.weight", "layers.0.bias", "output_layer.weight", "output_layer.bias", "input"]);
  assert.ok(right.every((r) => r.pass === "true"), JSON.stringify(right));
  assert.deepEqual(right.map((r) => r.checked), ["20", "20", "20", "10", "20"]);
  assert.match(right[0].note, /20 of 200,704 entries checked; worst at \[\d+, \d+\]/);
  assert.match(await page.textContent('[data-testid="gradcheck-summary"]'), /spot check of 20 random entries per tensor/);
  await screenshot(page, "gradcheck-spot");
  await page.selectOption('[data-testid="break-backward"]', "no_sigmoid_derivative");
  await page.evaluate(() => { document.querySelector('[data-testid="gradcheck-summary"]').dataset.spot = ""; });
  const broken = await run();
  assert.deepEqual(broken.filter((r) => r.pass === "false").map((r) => r.param), ["layers.0.weight", "layers.0.bias", "input"]);
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="gradcheck-summary"]'), /抽查/);
  await screenshot(page, "gradcheck-spot-zh");
  assert.deepEqual(errors, []);
  await page.close();
});

test("invalid fields show a message and the page keeps working", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  const hidden = '#gradcheck-form [data-error-for="hidden_dims"]';
  await page.fill('[data-testid="gc-hidden-dims"]', "16,x");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, hidden, /“x” is not a whole number/);
  // Too large even to spot-check: the message sits beside the hidden widths.
  await page.fill('[data-testid="gc-hidden-dims"]', Array(10).fill(4096).join(","));
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, hidden, /would take about [\d,]+ s; the page runs checks of up to about 120 s/);
  await page.fill('[data-testid="gc-hidden-dims"]', "16,4");
  await page.fill('[data-testid="gc-input-dim"]', "0");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="input_dim"]', /too small/);
  assert.equal(await page.textContent(hidden), "", "a fixed field loses its message");
  await screenshot(page, "gradcheck-invalid");
  await page.fill('[data-testid="gc-input-dim"]', "32");
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"] tbody tr[data-pass="true"]');
  assert.deepEqual(errors, []);
});

test("a check of many seconds runs in steps beside training, with progress and Cancel, never blocking the page", async () => {
  const { page, errors, longTasksSince } = await pageRecordingLongTasks(shared.browser.context);
  await page.goto(`${shared.server.url}?lang=en&epochs=3&lr=0.5`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  const startedAt = await page.evaluate(() => performance.now());
  await page.click('[data-testid="train-start"]');
  // About 20 s of work, which used to run in one task.
  await startLongCheck(page);
  const trainingAt = await page.evaluate(() => document.getElementById("epoch-progress").value);
  const checkAt = await page.evaluate(() => document.getElementById("gradcheck-progress").value);
  // Both go on together.
  await page.waitForFunction(([t, c]) => document.getElementById("epoch-progress").value !== t
    && document.getElementById("gradcheck-progress").value > c, [trainingAt, checkAt]);
  assert.match(await page.textContent('[data-testid="gradcheck-summary"]'), /^Checking: [\d,]+ of 45,060 numbers differentiated\.$/);
  assert.ok(await page.isDisabled('[data-testid="gradcheck-run"]'));
  await screenshot(page, "gradcheck-in-progress");
  await page.click('[data-testid="gradcheck-cancel"]');
  await waitForText(page, '[data-testid="gradcheck-summary"]', /^Check cancelled\.$/);
  assert.ok(await page.isHidden('[data-testid="gradcheck-progress"]'));
  assert.ok(await page.isHidden('[data-testid="gradcheck-cancel"]'));
  assert.ok(await page.isEnabled('[data-testid="gradcheck-run"]'));
  assert.ok(await page.isHidden('[data-testid="gradcheck-table"]'), "no table for a cancelled check");
  await page.click('[data-testid="train-stop"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]');
  assert.deepEqual(await longTasksSince(startedAt), [], "no main-thread task blocks the page while checking and training");
  assert.deepEqual(errors, []);
  await page.close();
});

test("a refused check hides the last table, and a batch needs its size", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"] tbody tr');
  await page.fill('[data-testid="gc-hidden-dims"]', "16,0");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="hidden_dims"]', /too small/);
  assert.ok(await page.isHidden('[data-testid="gradcheck-table"]'), "the old table is gone");
  assert.equal(await page.textContent('[data-testid="gradcheck-summary"]'), "");
  await page.fill('[data-testid="gc-hidden-dims"]', "16,4");
  await page.selectOption('[data-testid="gc-sample-kind"]', "batch");
  await page.fill('[data-testid="gc-batch"]', "");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="batch"]', /^Enter a value\.$/);
  assert.ok(await page.isHidden('[data-testid="gradcheck-table"]'));
  assert.deepEqual(errors, []);
});

test("a Rust panic is shown on the page, not a blank screen", async () => {
  const { page } = await openPage(shared.browser.context, shared.server.url);
  await page.evaluate(() => {
    try { window.wasmBindings.panic_for_test(); } catch (_) { /* the RuntimeError is expected */ }
  });
  const banner = page.locator('[data-testid="fatal"]');
  await banner.waitFor({ state: "visible" });
  assert.match(await banner.textContent(), /a test asked for a panic/);
});

test("opened as a file (a double-clicked index.html), the page says how to serve it", async () => {
  const page = await shared.browser.context.newPage();
  await page.goto(`file://${path.join(DIST, "index.html")}`);
  const note = page.locator('[data-testid="file-protocol"]');
  await note.waitFor();
  assert.match(await note.textContent(), /python3 -m http\.server 8000.*http:\/\/localhost:8000\//);
  assert.match(await note.textContent(), /网络服务器/);
  assert.ok(await page.isHidden("main"), "no dead controls under the message");
  await screenshot(page, "opened-as-file");
  await page.close();
});
