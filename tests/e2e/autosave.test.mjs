// Nothing lost: a run saved at its epoch ends survives a reload and goes on to the same
// weights, to the bit, as a run never interrupted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const SETTINGS = "?lang=en&train_limit=6400&epochs=3&lr=0.5&seed=4";

async function exportWeights(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="weights-export"]')]);
  return Buffer.concat(await (await download.createReadStream()).toArray());
}
const rows = (page) => page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.epoch, tr.dataset.avgLoss, tr.dataset.testAccuracy]));

test("a run reloaded after an epoch continues to the same final weights as one never stopped", async () => {
  const context = shared.browser.context;
  const { page: straight } = await openPage(context, `${shared.server.url}${SETTINGS}`);
  await straight.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await straight.click('[data-testid="train-start"]');
  await straight.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  const expected = await exportWeights(straight);
  const expectedRows = await rows(straight);
  await straight.close();

  const { page, errors } = await openPage(context, `${shared.server.url}${SETTINGS}`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  assert.equal(await page.isHidden('[data-testid="resume-banner"]'), true, "a finished run leaves nothing to resume");
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="epoch-table"] tbody tr');
  await page.click('[data-testid="train-pause"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="paused"]');
  await page.waitForTimeout(300); // the save of epoch 1 is an IndexedDB write away
  await page.reload();
  await page.waitForSelector('[data-testid="resume-banner"]:not([hidden])', { timeout: 60_000 });
  // An epoch of 6,400 images is quick: the pause may land in epoch 2 or 3.
  const [, saved] = (await page.textContent('[data-testid="resume-banner"]')).match(/saved after epoch (\d) of 3 \(lr 0\.5 · 256\)/);
  assert.ok(["1", "2"].includes(saved), saved);
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
  // Finished: nothing is offered after another reload.
  await page.reload();
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.waitForTimeout(300);
  assert.equal(await page.isHidden('[data-testid="resume-banner"]'), true);
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
