// Nothing lost: a run saved at its epoch ends and on Pause survives a reload and goes on to the same
// weights, to the bit, as a run never interrupted. A browser that refuses storage
// (blocked, or full) gets one note, and training goes on without the saves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const SETTINGS = "?lang=en&train_limit=6400&epochs=3&lr=0.5&seed=4";
// Adam's moments and step count must come back too, or the weights differ.
const ADAM = "?lang=en&train_limit=6400&epochs=3&lr=0.005&seed=4&act=relu&opt=adam";

async function exportWeights(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="weights-export"]')]);
  return Buffer.concat(await (await download.createReadStream()).toArray());
}
const rows = (page) => page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.epoch, tr.dataset.avgLoss, tr.dataset.testAccuracy]));

for (const [settings, name] of [[SETTINGS, "sigmoid · SGD · lr 0\\.5 · 256 · batch 64 · seed 4 · 6,400 images"],
  [ADAM, "relu · Adam β 0\\.9, 0\\.999 · lr 0\\.005 · 256 · batch 64 · seed 4 · 6,400 images"]]) {
test(`a run paused, saved and reloaded continues to the same final weights as one never stopped (${name})`, async () => {
  const context = shared.browser.context;
  const { page: straight } = await openPage(context, `${shared.server.url}${settings}`);
  await straight.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await straight.click('[data-testid="train-start"]');
  await straight.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const expected = await exportWeights(straight);
  const expectedRows = await rows(straight);
  await straight.close();

  const { page, errors } = await openPage(context, `${shared.server.url}${settings}`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  // The run just finished in the other tab is kept, to be restored.
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('[data-testid="resume-banner"]'), /A finished run of 3 epochs was kept/);
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="epoch-table"] tbody tr');
  await page.click('[data-testid="train-pause"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="paused"]');
  await page.waitForTimeout(300); // the save on Pause is an IndexedDB write away
  await page.reload();
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  // An epoch of 6,400 images is quick: the pause lands inside epoch 2 or 3, or at an end.
  const banner = await page.textContent('[data-testid="resume-banner"]');
  const within = banner.match(new RegExp(`saved when it paused, after batch (\\d+) of epoch ([23]) of 3 \\(${name}\\)`));
  assert.ok(within || new RegExp(`saved after epoch [12] of 3 \\(${name}\\)`).test(banner), banner);
  if (within) console.log(`paused at batch ${within[1]} of epoch ${within[2]}`);
  await page.click('[data-testid="resume-continue"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  assert.deepEqual(await rows(page), expectedRows, "the same epochs, to the bit");
  const got = await exportWeights(page);
  // The file's header is JSON (its metadata in no fixed order); the tensors follow it.
  const parts = (b) => {
    const end = 8 + Number(b.readBigUInt64LE(0));
    return { header: JSON.parse(b.subarray(8, end).toString()), data: b.subarray(end) };
  };
  assert.deepEqual(parts(got).header, parts(expected).header, "the same tensors and metadata");
  assert.ok(parts(got).data.equals(parts(expected).data), "the same weights, to the bit");
  // Finished: after another reload its model is offered back, to be used, not trained on.
  await page.reload();
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  assert.equal(await page.textContent('[data-testid="resume-continue"]'), "Restore it");
  await page.click('[data-testid="resume-continue"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  assert.deepEqual(await rows(page), expectedRows, "its table");
  const restored = await exportWeights(page);
  assert.ok(parts(restored).data.equals(parts(expected).data), "its weights, to download");
  // Its weights are scored again for the confusion matrix (under a second); then Continue.
  await page.waitForSelector('[data-testid="train-continue"]:not([disabled])', { timeout: 30_000 });
  assert.equal(await page.isEnabled('[data-testid="train-continue"]'), true, "and to train on");
  assert.deepEqual(errors, []);
  await page.close();
});
}

test("a finished run restored after a reload brings back its confusion matrix", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=6400&epochs=1&lr=0.5&seed=5`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  await page.waitForTimeout(300); // the save at the epoch end is an IndexedDB write away
  await page.reload();
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  assert.equal(await page.textContent('[data-testid="resume-continue"]'), "Restore it");
  await page.click('[data-testid="resume-continue"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  const matrix = '[data-testid="confusion-matrix"]';
  await page.waitForSelector(`${matrix}[data-total]`, { state: "attached", timeout: 60_000 });
  assert.equal(await page.getAttribute(matrix, "data-total"), "10000", "the test set's 10,000 images");
  const accuracy = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
  const diagonal = Number(await page.getAttribute(matrix, "data-diagonal"));
  assert.equal((diagonal / 100).toFixed(2), accuracy.toFixed(2), "the restored weights score as their row says");
  assert.match(await page.textContent('[data-testid="confusion-summary"]'), /After epoch 1/);
  // The loss chart shows the epoch it kept (its loss and accuracy; the batches were not saved).
  assert.equal(await page.getAttribute('[data-testid="loss-chart"]', "data-saved-epochs"), "1");
  assert.deepEqual(errors, []);
  await page.close();
});

test("leaving mid-epoch asks first, and Discard forgets the saved run", async () => {
  // All 60,000 images: an epoch lasts long enough to leave in the middle of one.
  const { page } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&epochs=3&lr=0.5&seed=4`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="epoch-table"] tbody tr');
  await page.waitForFunction(() => document.getElementById("epoch-progress").value >= 5);
  const asked = new Promise((resolve) => page.once("dialog", (d) => { resolve(d.type()); d.dismiss(); }));
  await page.close({ runBeforeUnload: true });
  assert.equal(await asked, "beforeunload");
  await page.waitForTimeout(200);
  await page.click('[data-testid="train-pause"]');
  await page.waitForTimeout(300);
  await page.reload();
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  await page.click('[data-testid="resume-discard"]');
  await page.reload();
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.waitForTimeout(300);
  assert.equal(await page.isHidden('[data-testid="resume-banner"]'), true);
  await page.close();
});

/**
 * Train a short run of two epochs on `page` and check what a browser that refuses storage
 * must give: one note naming the refusal, both epochs, no page error, nothing offered.
 */
async function trainsWithOneNote(page, errors, refusal) {
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  await page.waitForSelector('[data-testid="autosave-note"]:not([hidden])', { timeout: 10_000 });
  assert.match(await page.textContent('[data-testid="autosave-note"]'),
    new RegExp(`^This browser does not let the page save runs \\(${refusal}\\): training goes on, but a reload will lose it\\.$`));
  const notes = page.getByText("does not let the page save runs");
  assert.equal(await notes.count(), 1, "one note");
  assert.deepEqual(await rows(page).then((r) => r.map(([epoch]) => epoch)), ["1", "2"], "training went on to the end");
  for (const banner of ["train-error", "data-error", "resume-banner"]) {
    assert.equal(await page.isHidden(`[data-testid="${banner}"]`), true, banner);
  }
  assert.deepEqual(errors, []);
}

const SHORT = "?lang=en&train_limit=3200&epochs=2&lr=0.5";

test("a browser that blocks storage (private mode) gets one note, and training goes on", async () => {
  const page = await shared.browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  // As Chromium does where site data is blocked: IndexedDB and localStorage both refuse.
  await page.addInitScript(() => {
    IDBFactory.prototype.open = () => {
      throw new DOMException("Failed to execute 'open' on 'IDBFactory': access to the Indexed Database API is denied in this context.", "SecurityError");
    };
    Object.defineProperty(window, "localStorage", {
      get: () => { throw new DOMException("Failed to read the 'localStorage' property from 'Window': Access is denied for this document.", "SecurityError"); },
    });
  });
  await page.goto(`${shared.server.url}${SHORT}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  await trainsWithOneNote(page, errors, "SecurityError");
  await page.close();
});

test("storage that is full gets one note, and training goes on", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}${SHORT}`);
  // A real quota, far below one save (the weights alone are 800 KB): the write fails.
  const cdp = await shared.browser.context.newCDPSession(page);
  const origin = new URL(shared.server.url).origin;
  // Empty storage first: a save that replaces one of the same size (a finished run kept by
  // the tests before) would fit in what is already used.
  await cdp.send("Storage.clearDataForOrigin", { origin, storageTypes: "indexeddb" });
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 1024 });
  try {
    await trainsWithOneNote(page, errors, "QuotaExceededError");
  } finally {
    await cdp.send("Storage.overrideQuotaForOrigin", { origin }); // the quota back, for the other tests
    await page.close();
  }
});
