// The smaller things a new student or a hostile tester runs into, each on the real page.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import zlib from "node:zlib";
import path from "node:path";
import { servedBuildAndBrowser, serveDist, openPage, waitForText, drawStrokes, line, prediction, sidewaysOverflow, screenshot, startLongCheck, DIST } from "./harness.mjs";

const shared = servedBuildAndBrowser();

const state = (page) => page.getAttribute('[data-testid="train-status"]', "data-state");
const waitForState = (page, s, timeout = 60_000) =>
  page.waitForSelector(`[data-testid="train-status"][data-state="${s}"]`, { timeout });

test("a preset sets every field it implies, training images included", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=5000`);
  await waitForState(page, "ready");
  assert.equal(await page.inputValue('[data-testid="tr-limit"]'), "5000");
  await page.click('[data-testid="preset-assignment"]');
  assert.equal(await page.inputValue('[data-testid="tr-limit"]'), "", "all training images");
  assert.equal(await page.inputValue('[data-testid="tr-lr"]'), "0.01");
  assert.deepEqual(errors, []);
});

test("Reset forgets the model, and the draw pad says so", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=3000&epochs=1&lr=0.5&autostart=1`);
  await waitForState(page, "done");
  await drawStrokes(page, [line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  assert.match((await prediction(page)).digit, /^[0-9]$/);
  await page.click('[data-testid="train-reset"]');
  await page.waitForSelector('[data-testid="prediction"][data-untrained="true"]');
  assert.equal((await prediction(page)).digit, "", "no model, no digit");
  assert.equal(await state(page), "ready");
  assert.deepEqual(errors, []);
});

test("the keyboard focus moves to the button that comes next", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&epochs=3&lr=0.5`);
  await waitForState(page, "ready");
  await page.focus('[data-testid="train-start"]');
  await page.keyboard.press("Enter");
  await waitForState(page, "training");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), "train-pause");
  await page.keyboard.press("Enter");
  await waitForState(page, "paused");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), "train-resume");
  await page.click('[data-testid="train-stop"]');
  await waitForState(page, "done");
  assert.deepEqual(errors, []);
});

test("full-width digits from a Chinese input method are read, and long input is quoted short", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=ZH`);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN", "?lang=ZH");
  await page.fill('[data-testid="gc-input-dim"]', "３２");
  await page.fill('[data-testid="gc-hidden-dims"]', "１６，４");
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"] tbody tr[data-pass="true"]');
  await page.fill('[data-testid="gc-hidden-dims"]', `${"7".repeat(5000)}x`);
  await page.click('[data-testid="gradcheck-run"]');
  const message = await waitForText(page, '#gradcheck-form [data-error-for="hidden_dims"]', /…/);
  assert.ok(message.length < 60, message);
  assert.deepEqual(await sidewaysOverflow(page), { px: 0, elements: [] });
  const { page: regional } = await openPage(shared.browser.context, `${shared.server.url}?lang=zh-cn`);
  assert.equal(await regional.getAttribute("html", "lang"), "zh-CN", "?lang=zh-cn");
  assert.deepEqual(errors, []);
});

test("a ?data= address that is not http(s) gets the page's own message, and no Retry", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&data=javascript:alert(1)`);
  await waitForState(page, "error");
  assert.match(await page.textContent('[data-testid="data-error"]'), /^The data address “javascript:alert\(1\)” is not an http or https web address/);
  assert.ok(await page.isHidden('[data-testid="data-retry"]'));
  assert.deepEqual(errors, []);
});

test("an image file with the wrong dimensions says so, with no Retry; a tiny file shows its bytes", async () => {
  const file = "data/t10k-images-idx3-ubyte.gz";
  const raw = Buffer.from(zlib.gunzipSync(fs.readFileSync(path.join(DIST, file))));
  raw.writeUInt32BE(30, 8); // 28 x 28 rewritten as 30 x 30
  raw.writeUInt32BE(30, 12);
  const labels = zlib.gzipSync(Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]));
  const broken = await serveDist({ [file]: zlib.gzipSync(raw), "data/t10k-labels-idx1-ubyte.gz": labels });
  try {
    const { page, errors } = await openPage(shared.browser.context, `${broken.url}?lang=en`);
    await waitForState(page, "error");
    assert.match(await page.textContent('[data-testid="data-error"]'), /t10k-images-idx3-ubyte\.gz has dimensions \[10000, 30, 30\]; MNIST images are 28×28/);
    assert.ok(await page.isHidden('[data-testid="data-retry"]'), "Retry cannot fix such a file");
    const bytes = await page.textContent('.file-progress[data-file="test-labels"] .file-bytes');
    assert.equal(bytes, `${labels.length} B / ${labels.length} B · 100%`);
    assert.deepEqual(errors, []);
  } finally {
    await broken.close();
  }
});

test("settings that would freeze the page are refused, on the field to change", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&hidden=4096,4096&batch=64`);
  await waitForState(page, "ready");
  await page.click('[data-testid="train-start"]');
  await waitForText(page, '#train-form [data-error-for="batch"]', /^A batch of 64 through [\d,]+ parameters is about [\d,]+ multiply-adds a step/);
  assert.equal(await state(page), "ready");
  await page.fill('[data-testid="gc-hidden-dims"]', Array(65).fill("1").join(","));
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="hidden_dims"]', /^65 hidden layers is too many/);
  await page.fill('[data-testid="gc-hidden-dims"]', "16,4,");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="hidden_dims"]', /remove the extra comma/);
  assert.deepEqual(errors, []);
});

test("a running check keeps its fields; a field not in use shows no message", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.selectOption('[data-testid="gc-sample-kind"]', "batch");
  await page.fill('[data-testid="gc-batch"]', "");
  await page.click('[data-testid="gradcheck-run"]');
  await waitForText(page, '#gradcheck-form [data-error-for="batch"]', /Enter a value/);
  await page.selectOption('[data-testid="gc-sample-kind"]', "single");
  assert.equal(await page.textContent('#gradcheck-form [data-error-for="batch"]'), "", "the greyed-out field keeps no message");
  await startLongCheck(page);
  for (const field of ["gc-input-dim", "gc-sample-kind", "gc-batch", "gc-loss"]) {
    assert.ok(await page.isDisabled(`[data-testid="${field}"]`), `${field} is locked while the check runs`);
  }
  await page.click('[data-testid="gradcheck-cancel"]');
  await waitForText(page, '[data-testid="gradcheck-summary"]', /cancelled/);
  assert.ok(await page.isEnabled('[data-testid="gc-input-dim"]') && await page.isEnabled('[data-testid="gc-batch"]'));
  assert.deepEqual(errors, []);
});

test("after a refused setting the status line no longer points at a message that is gone; Enter in a field hands focus to Pause", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&lr=100&train_limit=2000&epochs=1`);
  await waitForState(page, "ready");
  await page.click('[data-testid="train-start"]');
  await waitForState(page, "error");
  await page.fill('[data-testid="tr-lr"]', "abc");
  await page.click('[data-testid="train-start"]');
  await waitForText(page, '#train-form [data-error-for="lr"]', /not a number/);
  assert.ok(await page.isHidden('[data-testid="train-error"]'));
  assert.doesNotMatch(await page.textContent('[data-testid="train-status"]'), /see the message/);
  await page.fill('[data-testid="tr-lr"]', "0.5");
  await page.fill('[data-testid="tr-epochs"]', "3");
  await page.fill('[data-testid="tr-limit"]', "");
  await page.press('[data-testid="tr-seed"]', "Enter");
  await waitForState(page, "training");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), "train-pause");
  assert.ok(await page.isDisabled('[data-testid="quick-train"]'), "the pad's one-click training waits for Start");
  assert.match(await page.getAttribute('[data-testid="quick-train"]', "title"), /no run is going/, "and says why");
  await page.click('[data-testid="train-stop"]');
  await waitForState(page, "done");
  assert.deepEqual(errors, []);
});

test("at 320 px the drawing pad fits its card, and ?data= left empty means the page's own data", async () => {
  const page = await shared.browser.context.newPage();
  await page.setViewportSize({ width: 320, height: 568 });
  await page.goto(`${shared.server.url}?lang=zh&data=`);
  await page.waitForSelector("body[data-ready=true]");
  await waitForState(page, "ready");
  const [canvas, card] = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="draw-canvas"]').getBoundingClientRect();
    const section = document.getElementById("draw");
    const box = section.getBoundingClientRect();
    const padding = parseFloat(getComputedStyle(section).paddingRight);
    return [c.right, box.right - padding];
  });
  assert.ok(canvas <= card + 0.5, `canvas ends at ${canvas}, the card's content at ${card}`);
  await page.close();
});

test("a dot is too small to be a digit; the chart's PNG carries its legend", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=2000&epochs=1&lr=0.5&autostart=1`);
  await waitForState(page, "done");
  await drawStrokes(page, [line(140, 140, 146, 144, 3)]);
  await page.waitForSelector('[data-testid="prediction"][data-too-small="true"]');
  assert.equal((await prediction(page)).digit, "");
  assert.equal(await page.textContent("#prediction-text"), "Too small to be a digit: draw it larger.");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="download-chart"]')]);
  const png = fs.readFileSync(await download.path());
  const chartHeight = await page.evaluate(() => document.querySelector("#loss-chart canvas").height);
  assert.ok(png.readUInt32BE(20) > chartHeight + 100, `the PNG (${png.readUInt32BE(20)} px) is taller than the chart (${chartHeight} px): the legend is below`);
  assert.deepEqual(errors, []);
});

test("on a 320 x 568 phone: the toggle and table headers keep to one line, and the digit read shows beside the pad", async () => {
  const page = await shared.browser.context.newPage();
  await page.setViewportSize({ width: 320, height: 568 });
  await page.goto(`${shared.server.url}?lang=zh&train_limit=1280&epochs=1&lr=0.5&autostart=1`);
  await waitForState(page, "done");
  const heights = await page.evaluate(() => ({
    toggle: document.querySelector('[data-testid="lang-toggle"]').getBoundingClientRect().height,
    headers: [...document.querySelectorAll('[data-testid="epoch-table"] th')].map((th) => th.getBoundingClientRect().height),
  }));
  assert.ok(heights.toggle < 45, `the toggle is one line high: ${heights.toggle}`);
  assert.ok(heights.headers.every((h) => h < 40), `each header one line high: ${heights.headers}`);
  await page.evaluate(() => document.querySelector('[data-testid="draw-canvas"]').scrollIntoView({ block: "start" }));
  const bottom = await page.evaluate(() => document.getElementById("big-digit").getBoundingClientRect().bottom);
  assert.ok(bottom <= 568, `the digit read is in view with the pad: its bottom at ${bottom} px`);
  await screenshot(page, "phone-320x568-draw-zh");
  await page.close();
});

test("the pad is reached from the keyboard and says what its keys do; an invalid field keeps its focus ring", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await waitForState(page, "ready");
  await page.fill('[data-testid="tr-lr"]', "abc");
  await page.click('[data-testid="train-start"]');
  await waitForText(page, '#train-form [data-error-for="lr"]', /not a number/);
  await page.focus('[data-testid="tr-opt"]');
  await page.keyboard.press("Tab");
  const ring = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { field: el.dataset.testid, outline: style.outlineStyle, shadow: style.boxShadow };
  });
  assert.equal(ring.field, "tr-lr");
  assert.equal(ring.outline, "solid", "the focus ring shows");
  assert.match(ring.shadow, /rgb/, "and so does the red mark");
  await page.focus('[data-testid="draw-canvas"]');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), "draw-canvas");
  assert.match(await page.getAttribute('[data-testid="draw-canvas"]', "aria-label"), /press a digit key 0 to 9/);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), "clear-canvas", "Clear is next");
  assert.deepEqual(errors, []);
});
