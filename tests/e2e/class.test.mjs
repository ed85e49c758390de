// Ready for a class: every view without a pointer, links a teacher sends (labels as
// values, locked settings, a saved run kept), the figures of the charts as tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const SHORT = "train_limit=1280&epochs=1&lr=0.5";

async function ready(page) {
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
}

test("a tensor cell's value and a unit of layers.0.weight.grad answer to the keyboard", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&${SHORT}&autostart=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  await page.click('[data-testid="step-run"]');
  await page.waitForSelector('[data-testid="step-tensor"][data-name="layers.0.weight.grad"]');
  const card = page.locator('[data-testid="step-tensor"][data-name="fc0"]');
  await card.locator("canvas.tensor").focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  assert.match(await card.locator(".readout").textContent(), /^fc0\[0, 1\] = -?[\d.]+(e-?\d+)?$/);
  const index = await page.evaluate(() => document.getElementById("step").dataset.index);
  await page.keyboard.press("ArrowRight");
  assert.match(await card.locator(".readout").textContent(), /^fc0\[0, 2\] = /);
  assert.equal(await page.evaluate(() => document.getElementById("step").dataset.index), index, "the arrows stay in the picture");
  // The first layer's weight gradient: move to the second unit's tile, Enter shows it large.
  const grad = page.locator('[data-testid="step-tensor"][data-name="layers.0.weight.grad"]');
  await grad.locator("canvas.tensor").first().focus();
  for (let i = 0; i < 30; i++) await page.keyboard.press("ArrowRight");
  assert.match(await grad.locator(".readout").textContent(), /^layers\.0\.weight\.grad\[1, 1\] = /, "over the gap to unit 1");
  await page.keyboard.press("Enter");
  assert.match(await grad.locator(".unit .caption").textContent(), /^Unit 1 /);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the gradient flow and the runs compared have their figures as tables", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&${SHORT}&hidden=16,8&autostart=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const points = Number(await page.getAttribute('[data-testid="grad-flow-chart"]', "data-points"));
  assert.ok(points >= 2, `${points} records`);
  const rows = await page.$$eval('[data-testid="grad-flow-table"] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, points * 3, "one row per recorded point and layer");
  assert.deepEqual(rows.slice(0, 3).map((r) => r[1]), ["layers.0", "layers.1", "output_layer"]);
  assert.ok(rows.every((r) => /e/i.test(r[2]) && /e/i.test(r[3])), rows[0].join(" "));
  assert.equal(await page.locator('[data-testid="grad-flow-chart"] .u-legend').textContent().then((t) => t.includes("--")), false, "no -- in the legend");
  await page.waitForSelector('[data-testid="runs-table"] tbody tr', { state: "attached" });
  const run = await page.$$eval('[data-testid="runs-table"] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const epoch = await page.$$eval('[data-testid="epoch-table"] tbody tr td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(run.at(-1).slice(1), [epoch[0], epoch[1], epoch[2]], "the epoch table's figures");
  assert.match(run.at(-1)[0], /· 1,280 images$/);
  // On a 390 px phone the runs list's controls are touch targets of 24 x 24 px at least.
  await page.setViewportSize({ width: 390, height: 800 });
  const sizes = await page.$$eval('[data-testid="runs-list"] li input, [data-testid="runs-list"] .run-actions > *',
    (els) => els.map((e) => [e.getBoundingClientRect().width, e.getBoundingClientRect().height]));
  assert.ok(sizes.length >= 5 && sizes.every(([w, h]) => w >= 24 && h >= 24), JSON.stringify(sizes));
  assert.deepEqual(errors, []);
  await page.close();
});

test("a link may name a choice by its label, and a value the page cannot take stops autostart", async () => {
  const good = await openPage(shared.browser.context, `${shared.server.url}?lang=en&act=ReLU&opt=Adam&lr=0.001&train_limit=1280&epochs=1&autostart=1`);
  await good.page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  assert.equal(await good.page.inputValue('[data-testid="tr-act"]'), "relu");
  assert.equal(await good.page.inputValue('[data-testid="tr-opt"]'), "adam");
  assert.match(await good.page.locator('[data-testid="runs-list"] li .run-name').last().textContent(), /^relu · Adam /);
  assert.ok(Number(await good.page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")) > 60);
  await good.page.close();

  const bad = await openPage(shared.browser.context, `${shared.server.url}?lang=en&act=swish&lr=-1&epochs=0&autostart=1`);
  await ready(bad.page);
  await bad.page.waitForTimeout(500);
  const shown = await bad.page.$$eval(".field-error", (els) => els.map((e) => [e.dataset.errorFor, e.textContent]).filter(([, t]) => t));
  assert.deepEqual(shown.map(([field]) => field).sort(), ["act", "epochs", "lr"], "every bad value at once");
  assert.equal(await bad.page.getAttribute('[data-testid="train-status"]', "data-state"), "ready", "nothing trains");
  assert.match(await bad.page.textContent('[data-testid="link-refused"]'), /^This page was opened with settings it cannot take \(Activation, /);
  assert.deepEqual(bad.errors, []);
  await bad.page.close();
});

test("lock=1 fixes the link's settings, and presets that would change them are off", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&hidden=128&lr=0.1&act=tanh&lock=1`);
  await ready(page);
  const label = (name) => page.textContent(`#train-form label:has([name="${name}"]) > span`);
  const named = [await label("hidden"), await label("act"), await label("lr")].map((l) => l.replace(" 🔒", ""));
  assert.ok((await page.textContent('[data-testid="lock-note"]')).includes(named.join(", ")), named.join(", "));
  assert.equal(await page.getAttribute('[data-testid="tr-hidden"]', "readonly"), "");
  assert.equal(await page.isDisabled('[data-testid="tr-act"]'), true);
  assert.equal(await page.isEditable('[data-testid="tr-epochs"]'), true, "the rest is the student's");
  await page.fill('[data-testid="tr-epochs"]', "2");
  for (const preset of ["assignment", "fast", "relu-adam"]) assert.equal(await page.isDisabled(`[data-testid="preset-${preset}"]`), true, preset);
  await page.focus('[data-testid="tr-hidden"]'); // a locked field takes the focus, not the keys
  await page.keyboard.type("9");
  assert.equal(await page.inputValue('[data-testid="tr-hidden"]'), "128");
  assert.deepEqual(errors, []);
  await page.close();
});

test("a digit key puts a test image of that digit on the drawing pad", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&${SHORT}&autostart=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  await page.focus('[data-testid="draw-canvas"]');
  await page.keyboard.press("7");
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]').dataset.digit !== "");
  assert.equal(await page.getAttribute('[data-testid="prediction"]', "data-digit"), "7");
  const first = await page.getAttribute('[data-testid="draw-canvas"]', "data-stamp");
  await page.keyboard.press("7");
  assert.notEqual(await page.getAttribute('[data-testid="draw-canvas"]', "data-stamp"), first, "the next 7");
  await page.keyboard.press("Delete");
  assert.equal(await page.getAttribute('[data-testid="prediction"]', "data-digit"), "");
  assert.deepEqual(errors, []);
  await page.close();
});

test("an autostart link asks before it replaces a saved run", async () => {
  const context = shared.browser.context;
  const first = await openPage(context, `${shared.server.url}?lang=en&train_limit=6400&epochs=20&lr=0.5&autostart=1`);
  await first.page.waitForSelector('[data-testid="train-status"][data-state="training"]');
  await first.page.waitForSelector('[data-testid="epoch-table"] tbody tr', { timeout: 120_000 });
  await first.page.click('[data-testid="train-pause"]');
  await first.page.waitForSelector('[data-testid="train-status"][data-state="paused"]');
  await first.page.close();
  const again = await openPage(context, `${shared.server.url}?lang=en&${SHORT}&autostart=1`);
  await again.page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  assert.match(await again.page.textContent("#resume-text"), /This link starts a new run/);
  await again.page.waitForTimeout(1000);
  assert.equal(await again.page.getAttribute('[data-testid="train-status"]', "data-state"), "ready", "it waits");
  await again.page.click('[data-testid="resume-discard"]');
  await again.page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  assert.deepEqual(again.errors, []);
  await again.page.close();
});

test("a run's link keeps the page's data mirror", async () => {
  const mirror = `${new URL(shared.server.url).origin}/shared-data/mnist/`;
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&${SHORT}&data=${encodeURIComponent(mirror)}&autostart=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const href = await page.getAttribute('[data-testid="runs-list"] li a[data-act="link"]', "href");
  assert.equal(new URL(href).searchParams.get("data"), mirror);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the footer opens the accessibility and privacy statements in the page's language", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=zh`);
  await page.click('[data-testid="accessibility-link"]');
  await page.waitForSelector('[data-testid="statement"][open]');
  assert.match(await page.textContent("#statement-body h2"), /^无障碍声明$/);
  assert.match(await page.textContent("#statement-body"), /已知例外/);
  await page.keyboard.press("Escape");
  await page.click('[data-testid="lang-toggle"]');
  await page.click('[data-testid="privacy-link"]');
  await page.waitForSelector('[data-testid="statement"][open]');
  assert.match(await page.textContent("#statement-body h2"), /^Privacy statement$/);
  assert.ok(await page.locator("#statement-body table td", { hasText: "backprop-lab-runs" }).count() >= 1);
  assert.match(await page.textContent("footer"), /MNIST by Yann LeCun, Corinna Cortes and Christopher J\. C\. Burges/);
  assert.deepEqual(errors, []);
  await page.close();
});
