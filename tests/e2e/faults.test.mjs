// What a shaky network does to the data download, injected by the test server: a
// connection cut halfway, a 500 once, bytes trickling in, a wrong Content-Length.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serveDist, launchBrowser, openPage } from "./harness.mjs";

const gzip = { "content-type": "application/gzip" };
const FAULTS = {
  "a connection cut after half the file": (req, res, body) => {
    res.writeHead(200, { ...gzip, "content-length": body.length });
    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 50));
  },
  "a 500 once": (req, res) => res.writeHead(500).end("Internal Server Error"),
  "a Content-Length longer than the body": (req, res, body) => {
    res.writeHead(200, { ...gzip, "content-length": body.length + 1000 });
    res.write(body, () => setTimeout(() => res.destroy(), 50));
  },
};

for (const [fault, answer] of Object.entries(FAULTS)) {
  test(`${fault} gives a message naming the file, and Retry gets it`, async () => {
    const file = "data/train-images-idx3-ubyte.gz";
    // The fault first, then the real file.
    const server = await serveDist({ [file]: [answer, undefined] });
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser.context, `${server.url}?lang=en`);
      await page.waitForSelector('[data-testid="data-error"]:not([hidden])', { timeout: 60_000 });
      assert.match(await page.textContent('[data-testid="data-error"]'), /train-images-idx3-ubyte\.gz/);
      assert.equal(await page.isVisible('[data-testid="data-retry"]'), true);
      assert.equal(await page.getAttribute('[data-testid="train-status"]', "data-state"), "error");
      await page.click('[data-testid="data-retry"]');
      await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
      assert.equal(server.requests[file], 2, "Retry fetched it again");
      assert.equal(await page.isHidden('[data-testid="data-error"]'), true);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  });
}

test("bytes that trickle in move the progress bar, and nothing hangs", async () => {
  const file = "data/t10k-images-idx3-ubyte.gz";
  const slowly = (req, res, body) => {
    res.writeHead(200, { ...gzip, "content-length": body.length });
    const piece = Math.ceil(body.length / 20);
    let at = 0;
    const next = () => {
      if (at >= body.length) return res.end();
      res.write(body.subarray(at, at + piece));
      at += piece;
      setTimeout(next, 100);
    };
    next();
  };
  const server = await serveDist({ [file]: slowly });
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openPage(browser.context, `${server.url}?lang=en`);
    const bar = '[data-file="test-images"] progress';
    await page.waitForFunction((sel) => { const b = document.querySelector(sel); return b.value > 0 && b.value < b.max * 0.5; }, bar);
    const early = await page.evaluate((sel) => document.querySelector(sel).value, bar);
    await page.waitForFunction(([sel, v]) => document.querySelector(sel).value > v * 2, [bar, early]);
    // The page stays usable meanwhile: the gradient check runs.
    await page.click('[data-testid="gradcheck-run"]');
    await page.waitForSelector('[data-testid="gradcheck-table"]:not([hidden])');
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test("a hidden tab goes on training and says so; Stop during an evaluation ends cleanly", async () => {
  const server = await serveDist();
  const browser = await launchBrowser();
  try {
    const settings = `${server.url}?lang=en&train_limit=12800&epochs=2&lr=0.5`;
    // The same run in a tab that stays visible, for the figures to the bit.
    const { page: visible } = await openPage(browser.context, settings);
    await visible.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    await visible.click('[data-testid="train-start"]');
    await visible.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
    const rows = (p) => p.$$eval('[data-testid="epoch-table"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.avgLoss, tr.dataset.testAccuracy]));
    const expected = await rows(visible);
    await visible.close();

    const { page, errors } = await openPage(browser.context, settings);
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(() => document.getElementById("epoch-progress").value >= 10);
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    assert.match(await page.textContent('[data-testid="hidden-tab-note"]'), /went on while this tab was hidden/);
    assert.equal(await page.getAttribute('[data-testid="train-status"]', "data-state"), "training");
    await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
    assert.deepEqual(await rows(page), expected, "the same run, to the bit");

    // Stop while the test set is being evaluated: the run ends, the model stays.
    await page.fill('[data-testid="tr-epochs"]', "1");
    await page.click('[data-testid="train-start"]');
    // Stop is pressed the moment an evaluation chunk has run (a status change is a microtask away).
    const stoppedDuring = await page.evaluate(() => new Promise((resolve) => {
      const status = document.getElementById("train-status");
      new MutationObserver((_, observer) => {
        if (status.dataset.phase !== "evaluating") return;
        observer.disconnect();
        document.querySelector('[data-testid="train-stop"]').click();
        resolve(status.dataset.phase);
      }).observe(status, { attributes: true, attributeFilter: ["data-phase"] });
    }));
    assert.equal(stoppedDuring, "evaluating");
    await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
    assert.match(await page.textContent('[data-testid="train-status"]'), /Stopped/);
    assert.equal(await page.isEnabled('[data-testid="weights-export"]'), true, "the model is still there");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
