// Soak run (not a test): the Assignment preset's 25 epochs on full MNIST through the
// release page in headless Chromium, as a student leaves it running. After each epoch:
// the wasm linear memory, the JS heap in use and the longest main-thread task since the
// previous epoch. Then a summary: wasm memory flat or growing (epoch 25 against epoch 2,
// once the first epoch's buffers exist), the JS heap's range and the longest task.
// Exits 1 when the wasm memory grew, the page threw, or an epoch overran its time.
//
// Nothing is added to the page. The wasm memory comes from Trunk's loader, which hands
// the wasm exports (memory included) to `TrunkApplicationStarted` listeners; an init
// script listens before the page loads. The JS heap is CDP's Runtime.getHeapUsage; long
// tasks, a PerformanceObserver from another init script.
//
// SOAK_EPOCHS=3 makes a short run (the default is the preset's 25); SOAK_EPOCH_TIMEOUT_S
// (default 300) bounds each epoch, so a stalled page ends the run instead of hanging it.
import { serveDist, launchBrowser } from "../tests/e2e/harness.mjs";

const EPOCHS = Number(process.env.SOAK_EPOCHS ?? 25);
const EPOCH_TIMEOUT_MS = 1000 * Number(process.env.SOAK_EPOCH_TIMEOUT_S ?? 300);
const MB = 1048576;
const mb = (bytes) => (bytes / MB).toFixed(1);
// The Long Tasks API reports tasks over 50 ms only.
const ms = (duration) => (duration > 0 ? String(Math.round(duration)) : "<50");

const server = await serveDist();
const browser = await launchBrowser();
let failed = false;
try {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.addInitScript(() => {
    addEventListener("TrunkApplicationStarted", (e) => { window.__soakWasm = e.detail.wasm; });
    window.__soakTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__soakTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  const cdp = await browser.context.newCDPSession(page);
  await page.goto(`${server.url}?lang=en`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 120_000 });
  await page.click('[data-testid="preset-assignment"]');
  if (EPOCHS !== 25) await page.fill('[data-testid="tr-epochs"]', String(EPOCHS));
  const form = await page.$$eval("#train-form input:not([type=hidden])", (inputs) => inputs.map((i) => `${i.name}=${i.value || i.placeholder}`).join(" "));

  const sample = async () => {
    await cdp.send("HeapProfiler.collectGarbage"); // what is still held, not what awaits collection
    const heap = await cdp.send("Runtime.getHeapUsage");
    const [wasm, now] = await page.evaluate(() => [window.__soakWasm.memory.buffer.byteLength, performance.now()]);
    return { wasm, heap: heap.usedSize, now };
  };
  const longestSince = async (from, to) => {
    const tasks = await page.evaluate(() => window.__soakTasks);
    return tasks.filter((t) => t.start >= from && t.start < to).reduce((m, t) => Math.max(m, t.duration), 0);
  };

  const loaded = await sample();
  const loadTask = await longestSince(0, loaded.now);
  console.log(`soak: ${form}, full MNIST; after loading: wasm ${mb(loaded.wasm)} MB, JS heap ${mb(loaded.heap)} MB, longest task while loading ${ms(loadTask)} ms`);
  console.log("epoch  seconds  test_acc  wasm_MB  js_heap_MB  longest_task_ms");

  const started = Date.now();
  await page.click('[data-testid="train-start"]');
  let since = await page.evaluate(() => performance.now());
  const rows = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const row = await page.waitForSelector(`[data-testid="epoch-table"] tbody tr[data-epoch="${epoch}"]`, { timeout: EPOCH_TIMEOUT_MS });
    const seconds = Number(await row.getAttribute("data-seconds"));
    const accuracy = Number(await row.getAttribute("data-test-accuracy"));
    const s = await sample();
    const longest = await longestSince(since, s.now);
    since = s.now;
    rows.push({ epoch, ...s, longest });
    console.log([String(epoch).padStart(5), seconds.toFixed(1).padStart(8), accuracy.toFixed(2).padStart(9),
      mb(s.wasm).padStart(8), mb(s.heap).padStart(11), ms(longest).padStart(16)].join(" "));
  }
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  // The last epoch's follow-up tasks (matrix, tiles, save) run after its row appears.
  await page.waitForTimeout(2000);
  const tail = await longestSince(since, await page.evaluate(() => performance.now()));
  const longest = Math.max(tail, ...rows.map((r) => r.longest));

  const base = rows[Math.min(1, rows.length - 1)];
  const last = rows.at(-1);
  const grew = last.wasm > base.wasm;
  const heaps = rows.map((r) => r.heap);
  console.log(`summary: ${EPOCHS} epochs in ${((Date.now() - started) / 60000).toFixed(1)} min; ` +
    `wasm memory ${grew ? "GROWING" : "flat"}: ${mb(base.wasm)} MB at epoch ${base.epoch}, ${mb(last.wasm)} MB at epoch ${last.epoch}; ` +
    `JS heap ${mb(Math.min(...heaps))}-${mb(Math.max(...heaps))} MB; longest task while training ${ms(longest)} ms`);
  if (errors.length) console.log(`page errors: ${errors.map((e) => e.message).join("; ")}`);
  failed = grew || errors.length > 0;
} catch (error) {
  console.error(`soak: ${error.message}`);
  failed = true;
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
