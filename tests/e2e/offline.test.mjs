// Works offline after one visit, and updates cleanly: the release build's service worker
// in real Chromium, from the course sub-path.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { serveDist, launchBrowser, openPage, drawStrokes, line, prediction, DIST, MIRROR } from "./harness.mjs";

/** Open the page and wait until its service worker controls it, with everything cached. */
async function visitOnce(context, url) {
  const { page, errors } = await openPage(context, url);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    while (!navigator.serviceWorker.controller) await new Promise((r) => setTimeout(r, 50));
  });
  return { page, errors };
}

// A course site links the folder or, as LMS links often do, its index.html: either first
// visit is enough.
for (const entry of ["", "index.html"]) {
test(`after one visit through ${entry || "the folder"} the page loads, trains and draws with the server gone`, async () => {
  const server = await serveDist();
  const browser = await launchBrowser({ serviceWorkers: "allow" });
  try {
    const url = `${server.url}${entry}?lang=en&train_limit=3200&epochs=1&lr=0.5`;
    const { page, errors } = await visitOnce(browser.context, url);
    await server.close(); // offline: nothing answers any more
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    await page.click('[data-testid="train-start"]');
    await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
    assert.ok(Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")) > 50);
    await drawStrokes(page, [line(70, 50, 210, 50), line(210, 50, 120, 245)]);
    assert.notEqual((await prediction(page)).digit, "");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
}

test("a first visit downloads MNIST once, and the page says how much it downloads", async () => {
  const server = await serveDist();
  const browser = await launchBrowser({ serviceWorkers: "allow" });
  try {
    const { page, errors } = await visitOnce(browser.context, `${server.url}?lang=en`);
    for (const file of ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"]) {
      assert.equal(server.requests[`data/${file}`], 1, `${file}: once, not again by the worker`);
    }
    const bytes = fs.readdirSync(DIST, { recursive: true }).map(String).filter((f) => f !== "sw.js")
      .reduce((sum, f) => sum + (fs.statSync(path.join(DIST, f)).isFile() ? fs.statSync(path.join(DIST, f)).size : 0), 0);
    const note = await page.textContent('[data-testid="download-note"]');
    assert.match(note, new RegExp(`^A first visit downloads ${(bytes / 1048576).toFixed(1)} MB`), note);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test("a new deployment is offered as a reload, and never mixes versions", async () => {
  const overrides = {};
  const server = await serveDist(overrides);
  const browser = await launchBrowser({ serviceWorkers: "allow" });
  try {
    const { page } = await visitOnce(browser.context, `${server.url}?lang=en`);
    const before = await page.evaluate(() => caches.keys());
    assert.equal(before.length, 1);
    // The next build: another cache name, as a changed file gives.
    const worker = fs.readFileSync(path.join(DIST, "sw.js"), "utf8");
    overrides["sw.js"] = Buffer.from(worker.replace(/backprop-lab-[0-9a-f]{16}/, "backprop-lab-0000000000000002"));
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
    await page.waitForSelector('[data-testid="update-banner"]:not([hidden])', { timeout: 60_000 });
    assert.equal(await page.getAttribute('[data-testid="train-status"]', "data-state"), "ready", "nothing stopped");
    await Promise.all([page.waitForNavigation(), page.click('[data-testid="update-banner"] button')]);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    assert.deepEqual(await page.evaluate(() => caches.keys()), ["backprop-lab-0000000000000002"], "the old cache is gone");
    assert.equal(await page.isHidden('[data-testid="update-banner"]'), true);
  } finally {
    await browser.close();
    await server.close();
  }
});

// `?data=` from another place: another folder of the page's host, or another origin (one
// that allows the page to read it). The first visit fetches them before its worker runs:
// the worker fetches them again as it installs.
for (const where of ["another folder of the host", "another origin"]) {
  test(`MNIST loaded with ?data= from ${where} is there offline after one visit`, async () => {
    const server = await serveDist();
    const dataHost = where === "another origin" ? await serveDist({}, DIST, { cors: true }) : server;
    const browser = await launchBrowser({ serviceWorkers: "allow" });
    try {
      const data = new URL(MIRROR, dataHost.url).href;
      const url = `${server.url}?lang=en&train_limit=3200&epochs=1&lr=0.5&data=${encodeURIComponent(data)}`;
      const { page, errors } = await visitOnce(browser.context, url);
      await server.close();
      if (dataHost !== server) await dataHost.close(); // offline: neither the page's host nor the data's answers
      await page.reload();
      await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
      const status = await page.waitForSelector('[data-testid="train-status"]:is([data-state="ready"], [data-state="error"])', { timeout: 60_000 });
      assert.equal(await status.getAttribute("data-state"), "ready", await page.textContent('[data-testid="data-error"]'));
      const fetched = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
      assert.ok(fetched.includes(`${data}train-images-idx3-ubyte.gz`), fetched.join(" "));
      assert.ok(!fetched.some((name) => name.includes("/course/mlp/data/")), "nothing from the page's own data folder");
      await page.click('[data-testid="train-start"]');
      await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
      assert.ok(Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy")) > 50);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      if (dataHost !== server) await dataHost.close();
    }
  });
}
