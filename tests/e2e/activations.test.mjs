// ReLU and tanh, momentum and Adam in the release page, in real Chromium: the gradient
// check of each activation, the optimiser fields and the URL, and PyTorch's five reference
// runs (3 epochs each on full MNIST) landing in its bands, compared on one chart.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { servedBuildAndBrowser, openPage, screenshot, ROOT } from "./harness.mjs";

const shared = servedBuildAndBrowser();

async function checkRows(page) {
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"]:not([hidden]) tbody tr', { timeout: 60_000 });
  return page.$$eval('[data-testid="gradcheck-table"] tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.param, tr.dataset.pass === "true"])));
}

test("every activation's derivative passes the check, and the sigmoid's derivative in a ReLU or tanh net fails", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  for (const act of ["relu", "tanh"]) {
    await page.selectOption('[data-testid="gc-act"]', act);
    const shown = await page.$$eval("#gradcheck [data-act]", (els) => [...new Set(els.filter((el) => !el.hidden).map((el) => el.dataset.act))]);
    assert.deepEqual(shown, [act], `only the ${act} formulas are shown`);
    await page.selectOption('[data-testid="break-backward"]', "none");
    const right = await checkRows(page);
    assert.ok(Object.values(right).every(Boolean), `${act}: ${JSON.stringify(right)}`);
    await page.selectOption('[data-testid="break-backward"]', "sigmoid_derivative");
    const broken = await checkRows(page);
    for (const [param, pass] of Object.entries(broken)) {
      assert.equal(pass, param.startsWith("output_layer"), `${act}, sigmoid derivative: ${param}`);
    }
    // From fc: harmful for tanh, harmless for ReLU (fc > 0 exactly where relu(fc) > 0).
    await page.selectOption('[data-testid="break-backward"]', "derivative_from_fc");
    const fromFc = await checkRows(page);
    assert.equal(Object.values(fromFc).every(Boolean), act === "relu", `${act}, derivative from fc`);
    // The note says what the table shows, for this activation.
    const note = await page.textContent("#bug-note-text");
    assert.match(note, act === "relu" ? /harmless/ : /tanh'\(z\) = 1 − t²/, note);
  }
  await page.selectOption('[data-testid="gc-act"]', "sigmoid");
  await page.selectOption('[data-testid="break-backward"]', "sigmoid_derivative");
  assert.ok(Object.values(await checkRows(page)).every(Boolean), "in a sigmoid net the line is right");
  await screenshot(page, "gradcheck-sigmoid-derivative", "#gradcheck");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the optimiser fields follow the URL, show only what the optimiser reads, and refuse bad values", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&act=tanh&opt=nesterov&momentum=0.8&wd=0.0005`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  assert.equal(await page.inputValue('[data-testid="tr-act"]'), "tanh");
  assert.equal(await page.inputValue('[data-testid="tr-opt"]'), "nesterov");
  assert.equal(await page.inputValue('[data-testid="tr-momentum"]'), "0.8");
  assert.equal(await page.isVisible('[data-testid="tr-momentum"]'), true);
  assert.equal(await page.isVisible('[data-testid="tr-beta1"]'), false, "Adam's betas only for Adam");
  await page.selectOption('[data-testid="tr-opt"]', "adam");
  assert.equal(await page.isVisible('[data-testid="tr-beta1"]'), true);
  assert.equal(await page.isVisible('[data-testid="tr-momentum"]'), false);
  for (const [field, value, code] of [["beta2", "1", "not_below_one"], ["wd", "-0.1", "too_small"], ["lr", "0", "not_positive"]]) {
    await page.fill(`[data-testid="tr-${field}"]`, value);
    await page.click('[data-testid="train-start"]');
    assert.equal(await page.getAttribute(`#train-form [data-error-for="${field}"]`, "data-code"), code, field);
    assert.equal(await page.getAttribute('[data-testid="train-status"]', "data-state"), "ready", "nothing started");
    await page.fill(`[data-testid="tr-${field}"]`, { beta2: "0.999", wd: "0", lr: "0.001" }[field]);
  }
  await page.selectOption('[data-testid="tr-opt"]', "momentum");
  await page.fill('[data-testid="tr-momentum"]', "0");
  await page.click('[data-testid="train-start"]');
  assert.equal(await page.getAttribute('#train-form [data-error-for="momentum"]', "data-code"), "not_positive");
  // The preset sets every field, the activation and the optimiser included.
  await page.click('[data-testid="preset-relu-adam"]');
  const values = {};
  for (const field of ["act", "opt", "lr", "beta1", "beta2", "wd", "hidden", "epochs"]) values[field] = await page.inputValue(`[data-testid="tr-${field}"]`);
  assert.deepEqual(values, { act: "relu", opt: "adam", lr: "0.001", beta1: "0.9", beta2: "0.999", wd: "0", hidden: "256", epochs: "25" });
  await page.close();

  const { page: bad } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&opt=rmsprop&act=gelu`);
  await bad.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  assert.equal(await bad.getAttribute('#train-form [data-error-for="opt"]', "data-code"), "unknown_optimizer");
  assert.equal(await bad.getAttribute('#train-form [data-error-for="act"]', "data-code"), "unknown_activation");
  assert.equal(await bad.inputValue('[data-testid="tr-opt"]'), "sgd", "the field keeps a value it offers");
  assert.deepEqual(errors, []);
  await bad.close();
});

/** PyTorch's five reference runs, and the URL that sets each up in the page. */
const REFERENCE = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/fixtures/reference/pytorch_activations_optimisers.json"), "utf8"));
const RUNS = {
  "relu_sgd_lr0.01": "act=relu&opt=sgd&lr=0.01",
  "tanh_sgd_lr0.01": "act=tanh&opt=sgd&lr=0.01",
  "sigmoid_momentum_lr0.01": "act=sigmoid&opt=momentum&momentum=0.9&lr=0.01",
  "sigmoid_adam_lr0.001": "act=sigmoid&opt=adam&lr=0.001",
  "relu_adam_lr0.001": "act=relu&opt=adam&lr=0.001",
};

test("PyTorch's five runs of other activations and optimisers land in its bands in the page, side by side", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  const failures = [];
  for (const [key, query] of Object.entries(RUNS)) {
    await page.goto(`${shared.server.url}?lang=en&epochs=3&${query}`);
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    await page.click('[data-testid="train-start"]');
    await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 600_000 });
    const rows = await page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) => trs.map((tr) => ({
      epoch: Number(tr.dataset.epoch), loss: Number(tr.dataset.avgLoss), accuracy: Number(tr.dataset.testAccuracy), seconds: Number(tr.dataset.seconds) })));
    assert.equal(rows.length, 3, key);
    for (const row of rows) {
      const band = REFERENCE.runs[key][`epoch${row.epoch}`];
      const [lossLow, lossHigh] = band.loss;
      const [accLow, accHigh] = band.test_acc_pct;
      console.log(`${key} epoch ${row.epoch}: loss ${row.loss.toFixed(4)} (PyTorch ${lossLow}-${lossHigh}), ` +
        `test accuracy ${row.accuracy.toFixed(2)}% (PyTorch ${accLow}-${accHigh}), ${row.seconds.toFixed(1)} s`);
      // Five seeds understate the spread: 0.5 points of accuracy, 5% of loss beyond the band.
      if (row.loss < lossLow * 0.95 || row.loss > lossHigh * 1.05) failures.push(`${key} epoch ${row.epoch} loss ${row.loss}`);
      if (row.accuracy < accLow - 0.5 || row.accuracy > accHigh + 0.5) failures.push(`${key} epoch ${row.epoch} accuracy ${row.accuracy}`);
    }
  }
  assert.deepEqual(failures, []);
  // The runs list holds all five, named by their settings, on one chart.
  const names = await page.$$eval('[data-testid="runs-list"] li .run-name', (spans) => spans.map((s) => s.textContent));
  for (const label of ["relu · SGD · lr 0.01", "tanh · SGD · lr 0.01", "sigmoid · SGD + momentum μ 0.9 · lr 0.01", "sigmoid · Adam β 0.9, 0.999 · lr 0.001", "relu · Adam β 0.9, 0.999 · lr 0.001"]) {
    assert.ok(names.some((name) => name.startsWith(label)), `${label} in ${JSON.stringify(names)}`);
  }
  assert.equal(await page.getAttribute('[data-testid="runs-chart"]', "data-runs"), "5");
  await screenshot(page, "runs-activations-optimisers", "#train");
  assert.deepEqual(errors, []);
  await page.close();
});
