// What the network learned and how: the confusion matrix and its gallery, the hidden
// units, the gradient flow, and runs compared, on the real build, data and Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage, screenshot, sidewaysOverflow, drawStrokes, line } from "./harness.mjs";

const shared = servedBuildAndBrowser();

async function train(page) {
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
}

test("the confusion matrix sums to the test set, its diagonal is the accuracy, and a cell's gallery holds that cell", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=6400&epochs=1&lr=0.5`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  assert.match(await page.textContent('[data-testid="confusion-summary"]'), /No evaluation yet/);
  await train(page);
  const cells = await page.$$eval('[data-testid="confusion-matrix"] td[data-count]', (tds) =>
    tds.map((td) => ({ truth: Number(td.dataset.true), pred: Number(td.dataset.pred), count: Number(td.dataset.count) })));
  assert.equal(cells.length, 100);
  assert.equal(cells.reduce((sum, c) => sum + c.count, 0), 10_000);
  const diagonal = cells.filter((c) => c.truth === c.pred).reduce((sum, c) => sum + c.count, 0);
  const accuracy = await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy");
  assert.equal((diagonal / 100).toFixed(2), Number(accuracy).toFixed(2), "the diagonal is the accuracy shown");

  assert.match(await page.textContent('[data-testid="confusion-summary"]'), /^After epoch 1: 10,000 test images/);
  // Arrow keys move through the cells, one of which is in the tab order.
  await page.focus('[data-testid="confusion-matrix"] td[tabindex="0"]');
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowRight");
  assert.deepEqual(await page.evaluate(() => [document.activeElement.dataset.true, document.activeElement.dataset.pred]), ["1", "1"]);
  // The biggest mistake's gallery: exactly its images (or the first 100), most confident first.
  const worst = cells.filter((c) => c.truth !== c.pred).sort((a, b) => b.count - a.count)[0];
  const cell = `[data-testid="confusion-matrix"] td[data-true="${worst.truth}"][data-pred="${worst.pred}"]`;
  await page.focus(cell);
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="mistakes-gallery"]:not([hidden])');
  const items = await page.$$eval('[data-testid="mistakes-gallery"] [data-testid="gallery-item"]', (els) =>
    els.map((e) => ({ index: Number(e.dataset.index), truth: Number(e.dataset.true), pred: Number(e.dataset.pred), confidence: Number(e.dataset.confidence) })));
  assert.equal(items.length, Math.min(worst.count, 100));
  assert.ok(items.every((i) => i.truth === worst.truth && i.pred === worst.pred));
  assert.ok(items.every((item, k) => k === 0 || items[k - 1].confidence >= item.confidence), "most confident first");
  // The diagonal cell of a digit has more than 100: "More" brings the next page.
  const right = `[data-testid="confusion-matrix"] td[data-true="1"][data-pred="1"]`;
  await page.click(right);
  await page.waitForFunction(() => document.querySelector('[data-testid="mistakes-gallery"]').dataset.pred === "1");
  assert.equal(await page.locator('[data-testid="gallery-item"]').count(), 100);
  await page.click('[data-testid="gallery-more"]');
  assert.equal(await page.locator('[data-testid="gallery-item"]').count(), Math.min(200, cells.find((c) => c.truth === 1 && c.pred === 1).count));

  // An image opens in the step panel, which shows that test image and its label.
  await page.click(cell);
  const first = items[0];
  await page.click(`[data-testid="gallery-item"][data-index="${first.index}"]`);
  await page.waitForFunction((i) => document.getElementById("step").dataset.index === String(i), first.index);
  assert.equal(await page.evaluate(() => document.activeElement.id), "step-summary", "the focus follows to the step");
  assert.match(await page.textContent("#step-summary"), new RegExp(`Test image [\\d,]+, a ${first.truth}; the model says ${first.pred}`));

  // The hidden units: one tile per unit, and a unit's own view.
  await page.locator("#learned").scrollIntoViewIfNeeded();
  await page.waitForSelector('[data-testid="hidden-units"][data-units="256"]');
  assert.equal(await page.locator('[data-testid="hidden-units"] .unit-tile').count(), 256);
  await page.click('.unit-tile[data-unit="17"]');
  await page.waitForSelector('[data-testid="unit-detail"][data-unit="17"]');
  assert.match(await page.textContent('[data-testid="unit-detail"]'), /Unit 17 of layers\.0\.weight: bias -?\d/);
  assert.equal(await page.locator('[data-testid="unit-detail"] .tensor-bars li').count(), 10, "its pull on each digit");
  assert.equal(await page.locator('[data-testid="unit-detail"] .gallery-item').count(), 12);
  await screenshot(page, "learned-en", "#learned");
  // Escape closes the unit's view, back on its tile.
  await page.focus('[data-testid="unit-detail"] .gallery-item');
  await page.keyboard.press("Escape");
  assert.ok(await page.isHidden('[data-testid="unit-detail"]'));
  assert.equal(await page.evaluate(() => document.activeElement.dataset.unit), "17");

  // The drawing's hidden units, with the strongest outlined.
  await drawStrokes(page, [line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  await page.waitForSelector('[data-testid="draw-hidden"]:not([hidden])');
  assert.equal(await page.getAttribute('[data-testid="draw-hidden"]', "data-units"), "256");
  assert.equal((await page.getAttribute('[data-testid="draw-hidden"]', "data-strongest")).split(",").length, 8);

  // In Chinese, and on a phone.
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="confusion-summary"]'), /共 10,000 张测试图像/);
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await sidewaysOverflow(page);
  assert.equal(overflow.px, 0, JSON.stringify(overflow.elements));
  await screenshot(page, "learned-zh-375", "#learned");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the deep sigmoid preset shows the vanishing gradient, and runs are kept across a reload", async () => {
  const context = shared.browser.context;
  const { page, errors } = await openPage(context, `${shared.server.url}?lang=en`);
  await page.evaluate(() => localStorage.removeItem("backprop-lab-runs"));
  await page.reload();
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  // Showing a step first makes a model, but no run: only trained runs are listed.
  await page.click('[data-testid="step-run"]');
  await page.waitForSelector('[data-testid="step-tensor"]');
  await page.click('[data-testid="preset-deep-sigmoid"]');
  assert.equal(await page.inputValue('[data-testid="tr-hidden"]'), "256,256,256,256");
  assert.match(await page.textContent('[data-testid="preset-note"]'), /learns only to say the commonest digit/);
  await page.fill('[data-testid="tr-epochs"]', "1");
  await page.fill('[data-testid="tr-limit"]', "12800");
  await train(page);
  const flow = page.locator('[data-testid="grad-flow-chart"]');
  assert.equal(await flow.getAttribute("data-points"), "5", "five records in the epoch's 200 batches");
  const norms = (await flow.getAttribute("data-last-norms")).split(",").map(Number);
  assert.equal(norms.length, 5);
  assert.ok(norms[0] < norms[4] / 10, `layers.0 ${norms[0]} against output_layer ${norms[4]}`);
  await screenshot(page, "grad-flow-deep-sigmoid", ".flow");

  await page.click('[data-testid="preset-fast"]');
  await page.fill('[data-testid="tr-epochs"]', "1");
  await page.fill('[data-testid="tr-limit"]', "6400");
  await train(page);
  const runs = () => page.$$eval('[data-testid="runs-list"] li', (lis) => lis.map((li) => ({ run: li.dataset.run, epochs: li.dataset.epochs, text: li.textContent })));
  const before = await runs();
  assert.equal(before.length, 2);
  assert.match(before[0].text, /lr 0\.1 · 256,256,256,256 · batch 64 · seed 1/);
  assert.match(before[1].text, /lr 0\.5 · 256 · batch 64 · seed 1 · 6,400 images/);
  assert.equal(await page.getAttribute('[data-testid="runs-chart"]', "data-runs"), "2");

  await page.reload();
  await page.waitForSelector('[data-testid="runs-list"] li');
  assert.deepEqual(await runs(), before, "the list survives a reload");
  // A run's link reproduces its settings; Remove takes it off the list.
  const href = await page.getAttribute(`[data-run="${before[0].run}"] a[data-act="link"]`, "href");
  const { page: shared2 } = await openPage(context, href);
  assert.equal(await shared2.inputValue('[data-testid="tr-hidden"]'), "256,256,256,256");
  assert.equal(await shared2.inputValue('[data-testid="tr-lr"]'), "0.1");
  await shared2.close();
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="runs-csv-all"]')]);
  const csv = await (await download.createReadStream()).toArray();
  const lines = Buffer.concat(csv).toString().trim().split("\n");
  assert.equal(lines[0].split(",")[0], "run");
  assert.equal(lines.length, 3, "a header and one row per epoch of each run");
  await page.click(`[data-run="${before[0].run}"] [data-act="remove"]`);
  assert.equal((await runs()).length, 1);
  // The same settings again (the reload put the form back to its defaults): two runs,
  // told apart by their order.
  await page.click('[data-testid="preset-fast"]');
  await page.fill('[data-testid="tr-epochs"]', "1");
  await page.fill('[data-testid="tr-limit"]', "6400");
  await train(page);
  const names = await page.$$eval('[data-testid="runs-list"] li .run-name', (spans) => spans.map((e) => e.textContent));
  assert.equal(names.length, 2, JSON.stringify(names));
  assert.match(names[0], /6,400 images \(1\)$/);
  assert.equal(names[1], names[0].replace(/\(1\)$/, "(2)"));
  assert.deepEqual(errors, []);
  await page.close();
});
