// Training on the real MNIST files in the real release build, in real Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import zlib from "node:zlib";
import path from "node:path";
import { servedBuildAndBrowser, serveDist, launchBrowser, openPage, screenshot, sidewaysOverflow, waitForText, drawStrokes, line, prediction, settle, pageRecordingLongTasks, DIST, MIRROR } from "./harness.mjs";

const shared = servedBuildAndBrowser();

const status = (page) => page.locator('[data-testid="train-status"]');

async function waitForState(page, state, timeout = 120_000) {
  await page.waitForSelector(`[data-testid="train-status"][data-state="${state}"]`, { timeout });
}

/** The epoch table's results as the page holds them, every digit of Rust's f64 (not the times). */
async function exactRows(page) {
  return page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) =>
    trs.map(({ dataset: { epoch, avgLoss, testAccuracy } }) => ({ epoch, avgLoss, testAccuracy })));
}

async function epochRows(page) {
  return page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) =>
    trs.map((tr) => ({ epoch: Number(tr.dataset.epoch), loss: Number(tr.dataset.avgLoss), accuracy: Number(tr.dataset.testAccuracy), testLoss: Number(tr.cells[3].textContent) })));
}

test("trains, pauses and resumes exactly, downloads the CSV, and never blocks the page", async () => {
  const settings = `${shared.server.url}?lang=en&train_limit=50000&epochs=3&lr=0.5&batch=64&seed=7`;
  const sevenStrokes = [line(70, 50, 210, 50), line(210, 50, 120, 245)];
  // The same run without a pause, for comparison to the bit.
  const { page: straight } = await openPage(shared.browser.context, settings);
  await waitForState(straight, "ready");
  await straight.click('[data-testid="train-start"]');
  await waitForState(straight, "done");
  await drawStrokes(straight, sevenStrokes);
  const straightRows = await exactRows(straight);
  const straightPrediction = await prediction(straight);
  await straight.close();

  // Long tasks are recorded from the start; only those after Start count.
  const { page, errors, longTasksSince } = await pageRecordingLongTasks(shared.browser.context);
  await page.goto(settings);
  await waitForState(page, "ready");
  assert.match(await status(page).textContent(), /60,000 training and 10,000 test images/);
  assert.equal(await page.inputValue('[data-testid="tr-limit"]'), "50000", "settings come from the URL");

  const startedAt = await page.evaluate(() => performance.now());
  await page.click('[data-testid="train-start"]');
  // Paused early in epoch 1 of 3 (about 1.5 s of training), so the run cannot end first.
  await page.waitForFunction(() => document.getElementById("epoch-progress").value >= 20);
  await page.click('[data-testid="train-pause"]');
  await waitForState(page, "paused");
  assert.ok((await exactRows(page)).length < 3, "paused before the end");
  const frozen = await page.evaluate(() => document.getElementById("epoch-progress").value);
  const statusText = await status(page).textContent();
  await settle(page);
  assert.equal(await page.evaluate(() => document.getElementById("epoch-progress").value), frozen, "nothing trains while paused");
  assert.equal(await status(page).textContent(), statusText);
  await screenshot(page, "train-paused");
  await page.click('[data-testid="train-resume"]');
  await waitForState(page, "done");
  await screenshot(page, "train-done");
  assert.deepEqual(await exactRows(page), straightRows, "paused and resumed, every epoch's figures are the same to the bit");
  await drawStrokes(page, sevenStrokes);
  assert.deepEqual(await prediction(page), straightPrediction, "and so are the weights: the same confidence, to the bit");

  const rows = await epochRows(page);
  assert.deepEqual(rows.map((r) => r.epoch), [1, 2, 3]);
  assert.ok(rows[2].loss < rows[0].loss, `loss falls: ${JSON.stringify(rows)}`);
  assert.ok(rows[2].accuracy > 50, `accuracy well above chance (10%): ${rows[2].accuracy}`);
  assert.equal(await status(page).getAttribute("data-epoch"), "3");
  const bar = await page.evaluate(() => { const b = document.getElementById("epoch-progress"); return [b.value, b.max]; });
  assert.ok(bar[1] > 1 && bar[0] === bar[1], `the epoch bar is full when training is done: ${bar}`);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="download-csv"]')]);
  const csv = fs.readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv[0], "epoch,avg_loss,test_accuracy,seconds,samples_per_s,test_loss");
  assert.equal(csv.length, 4);
  csv.slice(1).forEach((line, i) => {
    const [epoch, loss, accuracy, seconds, rate, testLoss] = line.split(",").map(Number);
    assert.equal(epoch, i + 1);
    assert.ok(Math.abs(testLoss - rows[i].testLoss) <= 5e-5, `${line} vs table test loss ${rows[i].testLoss}`);
    assert.ok(Math.abs(loss - rows[i].loss) < 1e-5, `${line} vs table ${rows[i].loss}`);
    assert.ok(Math.abs(accuracy - rows[i].accuracy) < 0.01);
    assert.ok(seconds > 0 && rate > 0, line);
  });

  const [chart] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="download-chart"]')]);
  const png = fs.readFileSync(await chart.path());
  assert.equal(png.subarray(1, 4).toString(), "PNG", "the chart downloads as a PNG");
  assert.ok(png.length > 5000, `a real picture, ${png.length} bytes`);

  assert.deepEqual(await longTasksSince(startedAt), [], "no main-thread task blocks the page while training");
  assert.deepEqual(errors, []);
});

test("invalid settings are refused by the field", async () => {
  const url = `${shared.server.url}?lang=en`;
  const { page } = await openPage(shared.browser.context, url);
  await waitForState(page, "ready");
  for (const [field, value, message] of [
    ["tr-lr", "0", /must be greater than 0/], ["tr-lr", "abc", /not a number/],
    ["tr-batch", "0", /too small/], ["tr-batch", "5000", /5,000 is too large: the most allowed is 4,096\./],
    ["tr-hidden", "256,,x", /A width is missing/], ["tr-epochs", "0", /too small/],
    ["tr-seed", "99999999999999999999", /99999999999999999999 is too large: the most allowed is 4,294,967,295/],
    ["tr-hidden", "4096,4096,4096", /network of 36,818,954 weights and biases; the page trains at most 25,000,000/],
  ]) {
    await page.fill(`[data-testid="${field}"]`, value);
    await page.click('[data-testid="train-start"]');
    const name = await page.getAttribute(`[data-testid="${field}"]`, "name");
    await waitForText(page, `#train-form [data-error-for="${name}"]`, message);
    assert.equal(await status(page).getAttribute("data-state"), "ready");
    await page.goto(url); // not reload(): it would restore the bad value
    await waitForState(page, "ready");
  }
});

test("Enter in a field starts training, but not while an input method is composing", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=zh&train_limit=1280&epochs=1&lr=0.5`);
  await waitForState(page, "ready");
  const lr = page.locator('[data-testid="tr-lr"]');
  await lr.evaluate((el) => el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", isComposing: true, bubbles: true })));
  await settle(page);
  assert.equal(await status(page).getAttribute("data-state"), "ready", "Enter that confirms pinyin does not start");
  await lr.press("Enter");
  await waitForState(page, "done", 60_000);
  assert.equal((await epochRows(page)).length, 1);
  assert.deepEqual(errors, []);
});

test("Start then Stop, or Start then Pause, in one task: each request is honoured", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=5000&epochs=2&lr=0.5`);
  await waitForState(page, "ready");
  const clickBoth = (second) => page.evaluate((id) => {
    document.getElementById("btn-start").click();
    document.getElementById(id).click();
  }, second);
  await clickBoth("btn-stop");
  await waitForState(page, "done");
  assert.match(await status(page).textContent(), /^Stopped after 0 epochs\./);
  await settle(page);
  assert.equal(await status(page).getAttribute("data-state"), "done", "and it stays stopped");
  assert.ok(await page.isEnabled('[data-testid="train-start"]'));
  assert.ok(await page.isDisabled('[data-testid="train-pause"]') && await page.isDisabled('[data-testid="train-stop"]'));
  await clickBoth("btn-pause");
  await waitForState(page, "paused");
  assert.equal((await epochRows(page)).length, 0, "paused before any epoch ended");
  await page.click('[data-testid="train-resume"]');
  await waitForState(page, "done");
  assert.equal((await epochRows(page)).length, 2, "resumed to the end");
  assert.deepEqual(errors, []);
});

test("training and data errors follow the language toggle", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&lr=90&train_limit=2000&epochs=1`);
  await waitForState(page, "ready");
  await page.click('[data-testid="train-start"]');
  await waitForState(page, "error");
  assert.match(await page.textContent('[data-testid="train-error"]'), /^Training diverged in epoch 1/);
  await page.click('[data-testid="lang-toggle"]');
  assert.match(await page.textContent('[data-testid="train-error"]'), /^训练在第 1 轮第 \d+ 批发散/);
  const file = "data/t10k-labels-idx1-ubyte.gz";
  const broken = await serveDist({ [file]: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(200, 0x55)]) });
  try {
    const { page: bad } = await openPage(shared.browser.context, `${broken.url}?lang=zh`);
    await waitForState(bad, "error", 60_000);
    assert.match(await bad.textContent('[data-testid="data-error"]'), /不是有效的 gzip 文件/);
    await bad.click('[data-testid="lang-toggle"]');
    assert.match(await bad.textContent('[data-testid="data-error"]'), /is not a valid gzip file/);
  } finally {
    await broken.close();
  }
  assert.deepEqual(errors, []);
});

test("a diverging learning rate stops with a message, not a NaN chart", async () => {
  const { page } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&lr=90&train_limit=2000&epochs=1`);
  await waitForState(page, "ready");
  await page.click('[data-testid="train-start"]');
  await waitForState(page, "error");
  assert.match(await page.textContent('[data-testid="train-error"]'), /diverged/);
  await screenshot(page, "train-diverged");
});

for (const [label, file, bytes, expected] of [
  ["garbage gzip", "data/t10k-labels-idx1-ubyte.gz", Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(200, 0x55)]), /t10k-labels-idx1-ubyte\.gz is not a valid gzip file/],
  ["truncated file", "data/train-labels-idx1-ubyte.gz", null, /train-labels-idx1-ubyte\.gz is cut short/],
  ["missing file", "data/t10k-images-idx3-ubyte.gz", "404", /Could not download t10k-images-idx3-ubyte\.gz: the server answered 404/],
  ["web page instead of a file", "data/train-images-idx3-ubyte.gz", Buffer.from("<!doctype html><html><body>Welcome</body></html>"), /train-images-idx3-ubyte\.gz came back as a web page/],
]) {
  test(`a ${label} gives a message naming the file, and Retry fetches it again`, async () => {
    let body = bytes;
    if (body === null) {
      const raw = zlib.gunzipSync(fs.readFileSync(path.join(DIST, file)));
      body = zlib.gzipSync(raw.subarray(0, raw.length - 100));
    }
    // Broken on the first request, the real file on the next.
    const broken = await serveDist({ [file]: [body === "404" ? null : body, undefined] });
    try {
      const { page, errors } = await openPage(shared.browser.context, `${broken.url}?lang=en`);
      await waitForState(page, "error", 60_000);
      assert.match(await page.textContent('[data-testid="data-error"]'), expected);
      assert.equal(await status(page).textContent(), "Stopped: see the message above.", "the message is above the status line");
      assert.ok(await page.isVisible('[data-testid="data-retry"]'));
      await screenshot(page, `data-error-${label.replace(/ /g, "-")}`);
      // On a phone the message wraps, long address and all.
      await page.setViewportSize({ width: 320, height: 640 });
      assert.deepEqual(await sidewaysOverflow(page), { px: 0, elements: [] }, "320 px: the page scrolls sideways");
      await page.setViewportSize({ width: 1280, height: 900 });
      assert.equal(broken.requests[file], 1);
      await page.click('[data-testid="data-retry"]');
      await waitForState(page, "ready", 60_000);
      assert.equal(broken.requests[file], 2, "Retry downloaded the file again");
      assert.ok(await page.isHidden('[data-testid="data-error"]'), "the message is gone");
      assert.deepEqual(errors, []);
    } finally {
      await broken.close();
    }
  });
}

test("?data= loads MNIST from another place on the host, and autostart=1 trains at once", async () => {
  const settings = "lang=en&train_limit=1280&epochs=1&lr=0.5&autostart=1";
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?${settings}&data=${MIRROR}`);
  await waitForState(page, "done", 60_000);
  assert.equal((await epochRows(page)).length, 1, "one epoch trained without a click");
  assert.match(await status(page).textContent(), /^Finished 1 epoch: test accuracy/);
  const fetched = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
  assert.ok(fetched.includes(`${MIRROR}train-images-idx3-ubyte.gz`), fetched.join(" "));
  assert.ok(!fetched.some((p) => p.includes("/course/mlp/data/")), "nothing from the page's own data folder");
  assert.deepEqual(errors, []);
});

test("a browser set to German shows the English page's figures the English way (60,000, not 60.000)", async () => {
  const german = await launchBrowser({ locale: "de-DE" });
  try {
    const { page, errors } = await openPage(german.context, `${shared.server.url}?lang=en&train_limit=3200&epochs=1&lr=0.5&autostart=1`);
    await waitForState(page, "done", 60_000);
    assert.equal(await page.evaluate(() => (1234.5).toLocaleString()), "1.234,5", "the browser really formats German");
    const samplesPerS = await page.textContent('[data-testid="epoch-table"] tbody tr td:last-child');
    assert.match(samplesPerS, /^\d{1,3}(,\d{3})+$/, "samples/s in the epoch table");
    await page.locator('[data-testid="loss-chart"]').scrollIntoViewIfNeeded();
    // With no pointer on it (a keyboard, a phone), the legend shows the latest values, not "--".
    const legendValues = '[data-testid="loss-chart"] .u-legend .u-value';
    await page.waitForFunction((s) => document.querySelectorAll(s)[4]?.textContent !== "", legendValues).catch(() => {}); // redrawn within 250 ms
    const idle = await page.$$eval(legendValues, (els) => els.map((e) => e.textContent));
    const accuracy = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
    assert.ok(Math.abs(Number(idle[4]) - accuracy) < 0.001, `test accuracy in the legend: ${idle.join(" | ")}, table ${accuracy}`);
    const chart = await page.locator('[data-testid="loss-chart"] .u-over').boundingBox();
    await page.mouse.move(chart.x + chart.width * 0.8, chart.y + chart.height / 2);
    const legend = await page.$$eval('[data-testid="loss-chart"] .u-legend .u-value', (els) => els.map((e) => e.textContent));
    assert.match(legend[2], /^\d+\.\d+$/, `the smoothed loss in the chart's legend: ${legend.join(" | ")}`);
    await page.click('[data-testid="train-reset"]');
    await waitForState(page, "ready");
    assert.match(await status(page).textContent(), /^Ready: 60,000 training and 10,000 test images\./);
    assert.deepEqual(errors, []);
  } finally {
    await german.close();
  }
});

test("?data= on another host that does not allow the page to read it says so", async () => {
  const other = await serveDist(); // another port: another origin, which sends no CORS header
  try {
    const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&data=${new URL(MIRROR, other.url).href}`);
    await waitForState(page, "error", 60_000);
    const message = await page.textContent('[data-testid="data-error"]');
    assert.match(message, new RegExp(`from ${new URL(other.url).origin}: .*Access-Control-Allow-Origin`), message);
    assert.ok(await page.isVisible('[data-testid="data-retry"]'));
    assert.deepEqual(errors, []);
  } finally {
    await other.close();
  }
});

test("where scheduler.postTask is missing (Safari), the loop yields through a MessageChannel", async () => {
  const page = await shared.browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.addInitScript(() => Object.defineProperty(window, "scheduler", { value: undefined }));
  await page.goto(`${shared.server.url}?lang=en&train_limit=1280&epochs=2&lr=0.5&autostart=1`);
  assert.equal(await page.evaluate(() => typeof window.scheduler), "undefined");
  await waitForState(page, "done", 60_000);
  assert.deepEqual((await epochRows(page)).map((r) => r.epoch), [1, 2], "every batch came back from its yield");
  assert.match(await status(page).textContent(), /^Finished 2 epochs: test accuracy/);
  assert.deepEqual(errors, []);
});

test("on a phone-sized screen nothing is wider than the screen, in either language", async () => {
  const page = await shared.browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto(`${shared.server.url}?lang=zh&train_limit=1280&epochs=1&lr=0.5&autostart=1`);
  await waitForState(page, "done", 60_000);
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"]:not([hidden])');
  for (const lang of ["zh", "en"]) {
    assert.deepEqual(await sidewaysOverflow(page), { px: 0, elements: [] }, `${lang}: the page scrolls sideways`);
    await screenshot(page, `phone-${lang}`);
    if (lang === "zh") await page.click('[data-testid="lang-toggle"]');
  }
  // A narrower screen after the chart was drawn: the chart follows its card, in both languages.
  await page.setViewportSize({ width: 320, height: 640 });
  for (const lang of ["en", "zh"]) {
    assert.deepEqual(await sidewaysOverflow(page), { px: 0, elements: [] }, `320 px, ${lang}: the page scrolls sideways`);
    await screenshot(page, `phone-320-${lang}`);
    if (lang === "en") await page.click('[data-testid="lang-toggle"]');
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("at 375 px the check's verdict, its caption and all six epoch columns are on screen, in either language", async () => {
  const page = await shared.browser.context.newPage();
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto(`${shared.server.url}?lang=en&train_limit=1280&epochs=2&lr=0.5&autostart=1`);
  await waitForState(page, "done", 60_000);
  /** Each selector's elements, and whether any lies outside the screen or is cut by its scroller. */
  const offScreen = (selector) => page.$$eval(selector, (els) => els.filter((el) => {
    const r = el.getBoundingClientRect();
    let cut = r.right > document.documentElement.clientWidth + 0.5 || r.left < -0.5;
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== "visible") cut = true;
    }
    return getComputedStyle(el).display !== "none" && cut;
  }).map((el) => el.textContent));
  for (const [case_, lang] of [["32", "en"], ["784", "zh"]]) {
    if (lang === "zh") await page.click('[data-testid="lang-toggle"]');
    await page.fill('[data-testid="gc-input-dim"]', case_);
    if (case_ === "784") await page.fill('[data-testid="gc-output-dim"]', "10");
    if (case_ === "784") await page.fill('[data-testid="gc-hidden-dims"]', "256");
    await page.click('[data-testid="gradcheck-run"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="gradcheck-table"]').hidden
      && document.querySelector('[data-testid="gradcheck-table"] tbody tr'), null, { timeout: 30_000 });
    assert.deepEqual(await offScreen('[data-testid="gradcheck-table"] tbody td:last-child'), [], `${lang}: every verdict on screen`);
    assert.deepEqual(await offScreen('[data-testid="gradcheck-table"] caption'), [], `${lang}: the caption whole`);
    assert.deepEqual(await offScreen('[data-testid="epoch-table"] th, [data-testid="epoch-table"] td'), [], `${lang}: six columns`);
    await screenshot(page, `phone-375-check-${lang}`);
  }
  await page.close();
});
