// Browser benchmark: the release build in headless Chromium. Prints JSON lines.
//  1. page weight and load times;
//  2. five epochs of the Assignment preset through the page, as a user runs them
//     (per-batch yields, chart and status updates included), and wasm memory;
//  3. kernel throughput: Lab.benchmark (the notebook's configuration, steps back to back, with
//     plain SGD and with momentum, Nesterov and Adam), and
//     one evaluation of the 10,000 test images; 4. one canvas prediction;
//  5. last, each of issue 5's targets against this run's figures (with the native and
//     PyTorch figures that scripts/bench.sh measures and passes in NATIVE_BENCH and
//     PYTORCH_BENCH).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { serveDist, launchBrowser, loadBenchLab, DIST } from "../tests/e2e/harness.mjs";

const EPOCHS = 5;
const FLOP_PER_SAMPLE = 2 * (784 * 256 * 2 + 256 * 10 * 3);
// Issue 5's reference figures, measured once by the issue (not by this benchmark):
// PyTorch 2.15 native, 1 thread, tensors preloaded, and TensorFlow.js 4.22's wasm backend.
// The PyTorch ratios use PyTorch as measured in this run when bench.sh could run it.
const ISSUE_PYTORCH_SAMPLES_PER_S = 88_000;
const TFJS_WASM_SAMPLES_PER_S = 3_800;
const print = (o) => console.log(JSON.stringify({ target: "chromium", ...o }));
const jsonLines = (text) => (text ?? "").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
/** The best training-step figure over the rounds bench.sh ran, or undefined. */
function bestStep(lines) {
  const rates = lines.filter((l) => l.bench === "train_step").map((l) => l.samples_per_s_best);
  return rates.length ? Math.max(...rates) : undefined;
}
const nativeBest = bestStep(jsonLines(process.env.NATIVE_BENCH));
const pytorchBest = bestStep(jsonLines(process.env.PYTORCH_BENCH));
const pytorchRate = pytorchBest ?? ISSUE_PYTORCH_SAMPLES_PER_S;

const server = await serveDist();
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    addEventListener("TrunkApplicationStarted", (e) => { window.__wasm = e.detail.wasm; });
  });
  const t0 = Date.now();
  await page.goto(`${server.url}?lang=en&epochs=${EPOCHS}`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  const [interactiveMs, dataMs, fcp] = await page.evaluate(() => [
    performance.getEntriesByName("interactive")[0].startTime,
    performance.getEntriesByName("mnist-ready")[0].startTime,
    performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? 0,
  ]);

  const wasmFile = fs.readdirSync(DIST).find((f) => f.endsWith(".wasm"));
  const wasmBytes = fs.readFileSync(path.join(DIST, wasmFile));
  const wasmGzipKb = zlib.gzipSync(wasmBytes, { level: 9 }).length / 1024;
  // What a first visit downloads, as the build wrote it for the page to say.
  const firstVisitBytes = Number(fs.readFileSync(path.join(DIST, "index.html"), "utf8").match(/first-visit-bytes" content="(\d+)"/)?.[1]);
  print({ bench: "page", wasm_kb: +(wasmBytes.length / 1024).toFixed(1),
    wasm_gzip_kb: +wasmGzipKb.toFixed(1), first_visit_mb: +(firstVisitBytes / 1048576).toFixed(2),
    first_paint_ms: Math.round(fcp), interactive_ms: Math.round(interactiveMs),
    mnist_ready_after_interactive_ms: Math.round(dataMs - interactiveMs), wall_ms: Date.now() - t0 });

  // Five epochs of the Assignment preset as a user runs them (per-batch yields, chart and
  // status updates included), with wasm memory after each epoch.
  const memory = () => page.evaluate(() => window.__wasm.memory.buffer.byteLength / 1048576);
  const memoryLoaded = await memory();
  await page.click('[data-testid="train-start"]');
  const perEpochMemory = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    await page.waitForSelector(`[data-testid="epoch-table"] tbody tr[data-epoch="${epoch}"]`, { timeout: 300_000 });
    perEpochMemory.push(+(await memory()).toFixed(1));
  }
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  const rows = await page.$$eval('[data-testid="epoch-table"] tbody tr', (trs) => trs.map((tr) => ({
    seconds: +Number(tr.dataset.seconds).toFixed(3), loss: Number(tr.dataset.avgLoss), accuracy: Number(tr.dataset.testAccuracy) })));
  const sorted = rows.map((r) => r.seconds).sort((a, b) => a - b);
  const [best, median] = [sorted[0], sorted[Math.floor(sorted.length / 2)]];
  print({ bench: "page_epochs", preset: "assignment", epochs: EPOCHS, epoch_s: rows.map((r) => r.seconds),
    samples_per_s_best: Math.round(60000 / best), samples_per_s_median: Math.round(60000 / median), epoch1_loss: rows[0].loss, epoch1_test_accuracy: rows[0].accuracy,
    wasm_memory_mb_loaded: +memoryLoaded.toFixed(1), wasm_memory_mb_per_epoch: perEpochMemory });

  // Kernel throughput: steps back to back, no yields (blocks the page for a second).
  await loadBenchLab(page);
  const kernel = await page.evaluate(async (batches) => {
    const lab = window.__lab;
    lab.benchmark(20, "sgd"); // warm-up
    // Several short runs: this machine's speed drifts, so the best and the median say more than one run.
    const runs = Array.from({ length: 5 }, () => lab.benchmark(batches, "sgd"));
    // The optimisers that keep state take the plain path: three runs of each.
    const optimizers = Object.fromEntries(["momentum", "nesterov", "adam"].map((name) =>
      [name, Array.from({ length: 3 }, () => lab.benchmark(batches, name).samplesPerS).sort((a, b) => b - a)]));
    const result = { runs, optimizers };
    // A canvas prediction: a 280x280 canvas with a vertical stroke, the notebook's model.
    lab.configure({ hidden: "256", lr: "0.01", batch: "64", epochs: "1", seed: "1" });
    const side = 280;
    const rgba = new Uint8Array(side * side * 4).fill(255);
    for (let y = 40; y < 240; y++) for (let x = 130; x < 150; x++) rgba.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    lab.predict(rgba, side, side);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) lab.predict(rgba, side, side);
    result.predictMs = (performance.now() - t0) / 50;
    lab.free();
    return result;
  }, 300);
  const rates = kernel.runs.map((r) => r.samplesPerS).sort((a, b) => b - a);
  const evals = kernel.runs.map((r) => r.evalSeconds).sort((a, b) => a - b);
  print({ bench: "train_step", batches: 300, runs: rates.length, samples_per_s_best: Math.round(rates[0]),
    samples_per_s_median: Math.round(rates[2]), epoch_s_best: +(60000 / rates[0]).toFixed(3),
    effective_gflop_per_s_best: +(rates[0] * FLOP_PER_SAMPLE / 1e9).toFixed(1) });
  for (const [optimizer, rates] of Object.entries(kernel.optimizers)) {
    print({ bench: "train_step", optimizer, batches: 300, runs: rates.length, samples_per_s_best: Math.round(rates[0]),
      samples_per_s_median: Math.round(rates[1]), vs_tfjs_wasm_best: +(rates[0] / TFJS_WASM_SAMPLES_PER_S).toFixed(1) });
  }
  print({ bench: "evaluate_10000", seconds_best: +evals[0].toFixed(4), seconds_median: +evals[2].toFixed(4) });
  print({ bench: "predict_280x280", ms: +kernel.predictMs.toFixed(3) });
  // The first layer's kernel with its operands in L1: no step can run its first layer
  // faster, so kernel rate / first-layer FLOP per sample bounds the step from above.
  const kernelBest = Math.max(...kernel.runs.map((r) => r.kernelGflopPerS));
  const flop = kernel.runs[0].firstLayerFlopPerSample;
  print({ bench: "first_layer_kernel_in_l1", gflop_per_s_best: +kernelBest.toFixed(1),
    first_layer_flop_per_sample: Math.round(flop), step_bound_samples_per_s: Math.round(kernelBest * 1e9 / flop) });

  // Each target of issue 5 against this run's figures: [figure, target, met].
  const atLeast = (figure, target, digits) => [+figure.toFixed(digits), target, figure >= target];
  const under = (figure, target, digits) => [+figure.toFixed(digits), target, figure < target];
  const pageRate = 60000 / best;
  const worstMemory = Math.max(...perEpochMemory);
  const targets = {
    page_samples_per_s_best: atLeast(pageRate, 55_000, 0),
    page_vs_tfjs_wasm: atLeast(pageRate / TFJS_WASM_SAMPLES_PER_S, 14, 1),
    page_vs_pytorch: atLeast(pageRate / pytorchRate, 0.6, 2),
    // Issue 20: the optimisers with state stay well above any peer.
    ...Object.fromEntries(Object.entries(kernel.optimizers).map(([name, rates]) =>
      [`${name}_step_vs_tfjs_wasm`, atLeast(rates[0] / TFJS_WASM_SAMPLES_PER_S, 10, 1)])),
    evaluate_10000_s: under(evals[0], 0.3, 4),
    predict_ms: under(kernel.predictMs, 2, 3),
    wasm_gzip_kb: under(wasmGzipKb, 150, 1),
    interactive_ms: under(interactiveMs, 1000, 0),
    mnist_ready_after_interactive_ms: under(dataMs - interactiveMs, 1500, 0),
    wasm_memory_mb_after_epoch: under(worstMemory, 128, 1),
    // No growth: the last epoch's figure is no higher than the first's.
    wasm_memory_growth_mb_over_epochs: [+(perEpochMemory.at(-1) - perEpochMemory[0]).toFixed(1), 0, perEpochMemory.at(-1) <= perEpochMemory[0]],
  };
  if (nativeBest) targets.native_vs_pytorch = atLeast(nativeBest / pytorchRate, 2, 2);
  const missed = Object.keys(targets).filter((k) => !targets[k][2]);
  print({ target: "both", bench: "targets",
    reference_samples_per_s: { pytorch_1_thread: pytorchRate, pytorch_measured_in_this_run: pytorchBest !== undefined, tfjs_wasm: TFJS_WASM_SAMPLES_PER_S },
    figure_target_met: targets, missed: nativeBest ? missed : [...missed, "native_vs_pytorch (no NATIVE_BENCH)"],
    // For comparison, the same figures over the issue's own PyTorch figure.
    over_issue_pytorch_figure: { pytorch_1_thread: ISSUE_PYTORCH_SAMPLES_PER_S, page: +(pageRate / ISSUE_PYTORCH_SAMPLES_PER_S).toFixed(2),
      native: nativeBest ? +(nativeBest / ISSUE_PYTORCH_SAMPLES_PER_S).toFixed(2) : null } });
} finally {
  await browser.close();
  await server.close();
}
