// Browser benchmark: the release build in headless Chromium. Prints JSON lines.
//  1. kernel throughput: Lab.benchmark (seed configuration, steps back to back);
//  2. one full epoch of the Assignment preset through the page, as a user runs it
//     (per-batch yields, chart and status updates included);
//  3. page weight, load times and wasm memory.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { serveDist, launchBrowser, DIST } from "../tests/e2e/harness.mjs";

const FLOP_PER_SAMPLE = 2 * (784 * 256 * 2 + 256 * 10 * 3);
const print = (o) => console.log(JSON.stringify({ target: "chromium", ...o }));

const server = await serveDist();
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    addEventListener("TrunkApplicationStarted", (e) => { window.__wasm = e.detail.wasm; });
  });
  const t0 = Date.now();
  await page.goto(`${server.url}?lang=en&epochs=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  const [interactiveMs, dataMs, fcp] = await page.evaluate(() => [
    performance.getEntriesByName("interactive")[0].startTime,
    performance.getEntriesByName("mnist-ready")[0].startTime,
    performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? 0,
  ]);

  const wasmFile = fs.readdirSync(DIST).find((f) => f.endsWith(".wasm"));
  const wasmBytes = fs.readFileSync(path.join(DIST, wasmFile));
  print({ bench: "page", wasm_kb: +(wasmBytes.length / 1024).toFixed(1),
    wasm_gzip_kb: +(zlib.gzipSync(wasmBytes, { level: 9 }).length / 1024).toFixed(1),
    first_paint_ms: Math.round(fcp), interactive_ms: Math.round(interactiveMs),
    mnist_ready_after_interactive_ms: Math.round(dataMs - interactiveMs), wall_ms: Date.now() - t0 });

  // Kernel throughput, no yields (blocks the page for about a second).
  const lab = await page.evaluateHandle(() => new window.wasmBindings.Lab());
  const kernel = await page.evaluate(async (batches) => {
    const lab = new window.wasmBindings.Lab();
    const base = new URL("data/", location.href);
    const names = [["train-images", "train-images-idx3-ubyte.gz"], ["train-labels", "train-labels-idx1-ubyte.gz"],
      ["test-images", "t10k-images-idx3-ubyte.gz"], ["test-labels", "t10k-labels-idx1-ubyte.gz"]];
    for (const [kind, name] of names) {
      const bytes = new Uint8Array(await (await fetch(new URL(name, base))).arrayBuffer());
      lab.load_file(kind, name, bytes);
    }
    lab.finish_loading(names.map((n) => n[1]));
    lab.benchmark(20); // warm-up
    return lab.benchmark(batches);
  }, 400);
  await lab.dispose();
  print({ bench: "train_step", batches: 400, samples_per_s: Math.round(kernel.samplesPerS),
    epoch_s: +(60000 / kernel.samplesPerS).toFixed(3), gflop_per_s: +(kernel.samplesPerS * FLOP_PER_SAMPLE / 1e9).toFixed(1) });
  print({ bench: "evaluate_10000", seconds: +kernel.evalSeconds.toFixed(4) });

  // One epoch as a user runs it.
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 300_000 });
  const row = await page.$eval('[data-testid="epoch-table"] tbody tr', (tr) => ({
    seconds: Number(tr.children[4].textContent), loss: Number(tr.dataset.avgLoss), accuracy: Number(tr.dataset.testAccuracy) }));
  const csv = await page.evaluate(() => document.querySelector('[data-testid="download-csv"]').disabled);
  const memoryMb = await page.evaluate(() => window.__wasm.memory.buffer.byteLength / 1048576);
  print({ bench: "page_epoch", preset: "assignment", samples_per_s: Math.round(60000 / row.seconds), epoch_s: row.seconds,
    avg_loss: row.loss, test_accuracy: row.accuracy, wasm_memory_mb: +memoryMb.toFixed(1), csv_ready: !csv });
} finally {
  await browser.close();
  await server.close();
}
