// A/B comparison of two release builds, for performance work on this noisy machine:
//   node scripts/ab.mjs <dist A> <dist B> [rounds=8] [batches=300]
// (e.g. copies of dist/ before and after). Both pages load in one Chromium;
// Lab.benchmark(batches) alternates between them, so drift in the machine's speed hits
// both alike. Prints each run, the B/A ratios of each round and their median.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { launchBrowser } from "../tests/e2e/harness.mjs";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".gz": "application/gzip" };
async function serve(dir) {
  const s = http.createServer((req, res) => {
    let rel = decodeURIComponent(new URL(req.url, "http://x").pathname.replace(/^\/course\/mlp\//, "")) || "index.html";
    const f = path.join(dir, rel);
    if (!fs.existsSync(f) || fs.statSync(f).isDirectory()) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[path.extname(f)] ?? "application/octet-stream" }).end(fs.readFileSync(f));
  });
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${s.address().port}/course/mlp/`, close: () => { s.close(); s.closeAllConnections(); } };
}
const [rounds = 8, batches = 300] = process.argv.slice(4).map(Number);
const dirs = process.argv.slice(2, 4);
const servers = await Promise.all(dirs.map(serve));
const browser = await launchBrowser();
try {
  const pages = [];
  for (const s of servers) {
    const page = await browser.context.newPage();
    await page.goto(`${s.url}?lang=en`);
    await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60000 });
    await page.evaluate(async () => {
      const lab = new window.wasmBindings.Lab(); window.__lab = lab;
      const base = new URL("data/", location.href);
      const names = [["train-images", "train-images-idx3-ubyte.gz"], ["train-labels", "train-labels-idx1-ubyte.gz"],
        ["test-images", "t10k-images-idx3-ubyte.gz"], ["test-labels", "t10k-labels-idx1-ubyte.gz"]];
      for (const [kind, name] of names) lab.load_file(kind, name, new Uint8Array(await (await fetch(new URL(name, base))).arrayBuffer()));
      lab.finish_loading(names.map((n) => n[1]));
      lab.benchmark(100);
    });
    pages.push(page);
  }
  // Per build: training step samples/s, and the first layer's kernel in L1 (GFLOP/s).
  const results = dirs.map(() => []), kernels = dirs.map(() => []);
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < pages.length; i++) {
      await pages[i].bringToFront();
      const r = await pages[i].evaluate((n) => window.__lab.benchmark(n), batches);
      results[i].push(Math.round(r.samplesPerS));
      kernels[i].push(+r.kernelGflopPerS.toFixed(1));
    }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = results[1] ? results[1].map((v, i) => (v / results[0][i]).toFixed(3)) : [];
  dirs.forEach((d, i) => console.log(d, JSON.stringify(results[i]), "median", median(results[i]),
    "| kernel GFLOP/s", JSON.stringify(kernels[i]), "median", median(kernels[i])));
  console.log("B/A ratios", ratio.join(" "), "median", ratio.length ? median(ratio.map(Number)) : "-");
} finally { await browser.close(); servers.forEach((s) => s.close()); }
