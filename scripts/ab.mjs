// A/B comparison of two release builds, for performance work on this noisy machine
// (e.g. copies of dist/ before and after a change). Both load in one Chromium and take
// turns, so drift in the machine's speed hits both alike:
//   node scripts/ab.mjs <dist A> <dist B> [rounds=8] [batches=300]
//       Lab.benchmark(batches, "sgd") per turn: the training step alone (samples/s, higher is
//       better) and the first layer's kernel in L1 (GFLOP/s);
//   node scripts/ab.mjs --page <dist A> <dist B> [rounds=8]
//       one epoch of the Assignment preset through the page per turn, as a user runs it
//       (seconds, lower is better).
// Prints each turn, the B/A ratio of each round and their median.
import path from "node:path";
import { serveDist, launchBrowser, loadBenchLab } from "../tests/e2e/harness.mjs";

const args = process.argv.slice(2);
const pageMode = args[0] === "--page";
if (pageMode) args.shift();
const dirs = args.slice(0, 2).map((d) => path.resolve(d));
const [rounds = 8, batches = 300] = args.slice(2).map(Number);
const servers = await Promise.all(dirs.map((d) => serveDist({}, d)));
const browser = await launchBrowser();

/** Load the data into a Lab of the page's wasm, for Lab.benchmark, and warm it up. */
async function loadLab(page) {
  await loadBenchLab(page);
  await page.evaluate(() => window.__lab.benchmark(100, "sgd"));
}

/** One turn: [main figure, kernel GFLOP/s or null]. */
async function turn(page) {
  if (!pageMode) {
    const r = await page.evaluate((n) => window.__lab.benchmark(n, "sgd"), batches);
    return [Math.round(r.samplesPerS), +r.kernelGflopPerS.toFixed(1)];
  }
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 120_000 });
  return [await page.$eval('[data-testid="epoch-table"] tbody tr', (tr) => +Number(tr.dataset.seconds).toFixed(3)), null];
}

try {
  const pages = [];
  for (const s of servers) {
    const page = await browser.context.newPage();
    await page.goto(`${s.url}?lang=en&epochs=1`);
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
    if (!pageMode) await loadLab(page);
    pages.push(page);
  }
  const results = dirs.map(() => []), kernels = dirs.map(() => []);
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < pages.length; i++) {
      await pages[i].bringToFront();
      const [figure, kernel] = await turn(pages[i]);
      results[i].push(figure);
      kernels[i].push(kernel);
    }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const unit = pageMode ? "epoch seconds" : "samples/s";
  dirs.forEach((d, i) => console.log(d, unit, JSON.stringify(results[i]), "median", median(results[i]),
    ...(pageMode ? [] : ["| kernel GFLOP/s", JSON.stringify(kernels[i]), "median", median(kernels[i])])));
  const ratios = results[1].map((v, i) => v / results[0][i]);
  console.log("B/A ratios", ratios.map((r) => r.toFixed(3)).join(" "), "median", median(ratios).toFixed(3));
} finally {
  await browser.close();
  await Promise.all(servers.map((s) => s.close()));
}
