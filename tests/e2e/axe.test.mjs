// WCAG 2.1 AA as axe-core checks it, in the real page: both languages, at 1280 px and at
// 640 px (200% zoom of a small laptop), fresh, after a gradient check with every
// <details> open, and after training with the step panel shown, a confusion-matrix cell's
// gallery open and a unit's detail open.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** axe's violations on the page as it is now, each with the nodes it names. */
async function violations(page) {
  // Through the DevTools protocol, as the page's CSP allows no injected script.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE);
  const found = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), RULES);
  return found.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 6).map((n) => n.target.join(" ")).join(", ")}${v.nodes.length > 6 ? ` and ${v.nodes.length - 6} more` : ""}`);
}

for (const lang of ["en", "zh"]) {
  for (const width of [1280, 640]) {
    test(`no WCAG 2.1 AA violation in ${lang} at ${width} px: fresh, after a check, after training`, async () => {
      const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=${lang}&train_limit=1280&epochs=1&lr=0.5`);
      await page.setViewportSize({ width, height: 900 });
      await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
      const found = { fresh: await violations(page) };

      await page.click('[data-testid="gradcheck-run"]');
      await page.waitForSelector('[data-testid="gradcheck-table"]:not([hidden])', { timeout: 60_000 });
      await page.evaluate(() => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
      found.checked = await violations(page);

      await page.click('[data-testid="train-start"]');
      await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
      await page.click('[data-testid="step-run"]');
      await page.waitForSelector('[data-testid="step-tensor"]');
      await page.click('[data-testid="confusion-matrix"] td[data-true="3"][data-pred="3"]');
      await page.waitForSelector('[data-testid="mistakes-gallery"]:not([hidden])');
      await page.click('.unit-tile[data-unit="0"]');
      await page.waitForSelector('[data-testid="unit-detail"][data-unit="0"]');
      found.trained = await violations(page);

      assert.deepEqual(found, { fresh: [], checked: [], trained: [] });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
}

test("the privacy statement's dialog on a phone: no violation, and Close in view", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en`);
  await page.setViewportSize({ width: 375, height: 700 });
  await page.click('[data-testid="privacy-link"]');
  await page.waitForSelector('[data-testid="statement"][open] #statement-body table');
  assert.deepEqual(await violations(page), []);
  // Opened at its heading, with Close in view too: the text scrolls between them.
  const inView = async (selector) => {
    const box = await page.locator(selector).boundingBox();
    return box.y >= 0 && box.y + box.height <= 700 ? true : `${selector} at y ${box.y}`;
  };
  assert.equal(await inView("#statement-body h2"), true);
  assert.equal(await inView('[data-testid="statement"] > button'), true);
  await page.keyboard.press("Escape");
  assert.ok(await page.isHidden('[data-testid="statement"]'));
  assert.deepEqual(errors, []);
  await page.close();
});
