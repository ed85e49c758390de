// Drawing digits with real mouse strokes on the real page, after real training.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage, screenshot, drawStrokes, line, prediction as pagePrediction } from "./harness.mjs";

let page, errors;
const shared = servedBuildAndBrowser(async ({ server, browser }) => {
  ({ page, errors } = await openPage(browser.context, `${server.url}?lang=en`));
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
});

const draw = (strokes) => drawStrokes(page, strokes);

/** The same with a finger: touch events through the DevTools protocol (pointerType "touch"). */
async function drawByTouch(strokes) {
  const canvas = page.locator('[data-testid="draw-canvas"]');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const cdp = await shared.browser.context.newCDPSession(page);
  const at = ([x, y]) => [{ x: box.x + x, y: box.y + y }];
  for (const stroke of strokes) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: at(stroke[0]) });
    for (const point of stroke.slice(1)) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: at(point) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  }
  await cdp.detach();
}

const ellipse = (cx, cy, rx, ry, n = 40) => Array.from({ length: n + 3 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);

async function prediction() {
  const { digit, confidence } = await pagePrediction(page);
  return { digit, confidence: Number(confidence) };
}

async function clear() {
  await page.click('[data-testid="clear-canvas"]');
  assert.equal((await prediction()).digit, "", "Clear resets the prediction");
}

test("before training the pad says so; one click trains, and the drawing is read as the model learns", async () => {
  await draw([line(140, 40, 132, 240)]);
  assert.ok(await page.isVisible('[data-testid="quick-train"]'));
  assert.match(await page.textContent("#prediction-text"), /untrained/);
  assert.equal(await page.getAttribute('[data-testid="prediction"]', "data-untrained"), "true");
  await page.click('[data-testid="quick-train"]'); // the Fast preset for one epoch
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 180_000 });
  assert.equal(await page.inputValue('[data-testid="tr-lr"]'), "0.5");
  assert.equal(await page.inputValue('[data-testid="tr-epochs"]'), "1");
  // The drawing was not touched: it is re-read because the weights changed.
  await page.waitForSelector('[data-testid="prediction"][data-untrained="false"]');
  assert.equal((await prediction()).digit, "1");
  assert.ok(!(await page.isVisible('[data-testid="quick-train"]')));
  await clear();
});

test("after a Fast epoch, mouse-drawn 1, 0 and 7 are read right at any size and place", async () => {
  const cases = [
    ["1", [line(140, 40, 132, 240)]],
    ["1", [line(60, 30, 58, 110)]], // small, top-left corner
    ["0", [ellipse(140, 140, 60, 95)]],
    ["0", [ellipse(200, 200, 30, 45)]], // small, bottom-right
    ["7", [line(70, 50, 210, 50), line(210, 50, 120, 245)]],
    ["7", [line(20, 20, 110, 20), line(110, 20, 60, 140)]], // smaller, off-centre
  ];
  for (const [i, [expected, strokes]] of cases.entries()) {
    await draw(strokes);
    const got = await prediction();
    await screenshot(page, `draw-${i}-${expected}`, "#draw");
    assert.equal(got.digit, expected, `case ${i}: drew ${expected}, read ${got.digit} (${got.confidence})`);
    assert.ok(got.confidence > 0.5, `case ${i}: confidence ${got.confidence}`);
    await clear();
  }
});

test("a digit drawn with a finger is read right, and the page does not scroll", async () => {
  await clear();
  const before = await page.evaluate(() => window.scrollY);
  await drawByTouch([line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]').dataset.digit !== "");
  assert.equal((await prediction()).digit, "7");
  assert.equal(await page.evaluate(() => window.scrollY), before, "touch-action: none keeps the page still");
  await screenshot(page, "draw-touch-7", "#draw");
  await clear();
});

test("drawing during training works and training carries on", async () => {
  // Enough epochs that the run is still going when Stop is pressed, however fast it trains.
  await page.fill('[data-testid="tr-epochs"]', "20");
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="training"]');
  await page.waitForFunction(() => document.getElementById("epoch-progress").value > 50);
  const before = await page.evaluate(() => document.getElementById("epoch-progress").value);
  await draw([line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  const got = await pagePrediction(page);
  assert.match(got.digit, /^[0-9]$/, "a prediction while training");
  await page.waitForFunction((b) => document.getElementById("epoch-progress").value > b + 20, before);
  // The pad follows the weights as they train: the same drawing, read again, changes.
  await page.waitForFunction((c) => document.querySelector('[data-testid="prediction"]').dataset.confidence !== c, got.confidence, { timeout: 30_000 });
  await screenshot(page, "draw-during-training", "main");
  await page.click('[data-testid="train-stop"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]');
  assert.deepEqual(errors, []);
});
