// The page as a static site should be: a Content-Security-Policy the build writes, no
// request leaving the page's origin, and text from files shown as text.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { servedBuildAndBrowser, drawStrokes, line } from "./harness.mjs";

const shared = servedBuildAndBrowser();

/** A weights file for a 784-10 net whose metadata is hostile markup. */
function hostileWeights() {
  const weight = Buffer.from(new Float32Array(7840).fill(0.001).buffer);
  const bias = Buffer.from(new Float32Array(10).buffer);
  const header = {
    "output_layer.weight": { dtype: "F32", shape: [10, 784], data_offsets: [0, weight.length] },
    "output_layer.bias": { dtype: "F32", shape: [10], data_offsets: [weight.length, weight.length + bias.length] },
    __metadata__: { note: "<img src=x onerror=\"window.__pwned=1\">", "<b>key</b>": "<script>window.__pwned=2</script>" },
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "backprop-lab-security-")), "hostile.safetensors");
  fs.writeFileSync(file, Buffer.concat([length, json, weight, bias]));
  return file;
}

test("the build's policy holds while a student uses every section, and nothing leaves the page's origin", async () => {
  const page = await shared.browser.context.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("request", (r) => requests.push(r.url()));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${shared.server.url}?lang=en&train_limit=3200&epochs=1&lr=0.5`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' ('sha256-[A-Za-z0-9+/=]+' ?)+/);
  assert.match(policy, /object-src 'none'/);
  assert.equal(await page.getAttribute("meta[data-connections]", "content"), "connect-src 'self'", "narrowed to the page's own origin");

  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForSelector('[data-testid="gradcheck-table"]:not([hidden])');
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  await drawStrokes(page, [line(70, 50, 210, 50), line(210, 50, 120, 245)]);
  await page.click('[data-testid="step-run"]');
  await page.waitForSelector('[data-testid="step-tensor"]');
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="download-chart"]')]);
  assert.match(download.suggestedFilename(), /\.png$/);

  // A file whose metadata is markup: shown as text, run as nothing.
  await page.setInputFiles('[data-testid="weights-import"]', hostileWeights());
  await page.waitForSelector('[data-testid="weights-status"][data-test-accuracy]', { timeout: 60_000 });
  const shown = await page.textContent('[data-testid="weights-metadata"]');
  assert.match(shown, /<img src=x onerror="window\.__pwned=1">/);
  assert.match(shown, /<b>key<\/b>/);
  assert.equal(await page.locator('[data-testid="weights-metadata"] img, [data-testid="weights-metadata"] b').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  assert.deepEqual(await page.evaluate(() => window.__violations), [], "no directive refused anything the page does");
  const origin = new URL(shared.server.url).origin;
  const away = requests.filter((url) => !url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:"));
  assert.deepEqual(away, [], "every request stays on the page's origin");
  assert.deepEqual(errors, []);
  await page.close();
});

test("with ?data= on another origin, connections are allowed to it and no further", async () => {
  const page = await shared.browser.context.newPage();
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  await page.goto(`${shared.server.url}?lang=en&data=http://localhost:9/mnist/`);
  await page.waitForSelector('[data-testid="data-error"]:not([hidden])', { timeout: 30_000 });
  assert.equal(await page.getAttribute("meta[data-connections]", "content"), "connect-src 'self' http://localhost:9");
  assert.deepEqual(await page.evaluate(() => window.__violations), [], "the data's origin is allowed");
  // A connection anywhere else is refused by the policy, not just by the network.
  await page.evaluate(() => fetch("http://127.0.0.2:9/elsewhere").catch(() => {}));
  await page.waitForFunction(() => window.__violations.length > 0);
  assert.deepEqual(await page.evaluate(() => window.__violations), ["connect-src http://127.0.0.2:9/elsewhere"]);
  await page.close();
});
