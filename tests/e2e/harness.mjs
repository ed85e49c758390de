// Shared end-to-end plumbing: a static server for the release build (under a sub-path,
// as a course site would host it), and Debian's Chromium driven by playwright-core.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { before, after } from "node:test";
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DIST = path.join(ROOT, "dist");
export const SHOTS = path.join(ROOT, "target", "e2e-screenshots");
export const PREFIX = "/course/mlp/";
export const MIRROR = "/shared-data/mnist/";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".gz": "application/gzip", ".png": "image/png",
};

/**
 * Serve `dist/` (or another build folder) under PREFIX on a free localhost port.
 * `overrides` maps a path below PREFIX (e.g. "data/t10k-labels-idx1-ubyte.gz") to a
 * Buffer served instead of the file, or to null for a 404, or to a function
 * `(req, res, realBytes)` that answers by hand (a fault); or to a list of such answers
 * given in turn (the last one repeats), where `undefined` serves the real file. The
 * returned `requests` counts the requests for each path below PREFIX. With `cors`, the
 * data under MIRROR may be read from any origin (Access-Control-Allow-Origin: *), as a
 * data host for `?data=` on another origin must allow.
 */
export async function serveDist(overrides = {}, dist = DIST, { cors = false } = {}) {
  const requests = {};
  if (!fs.existsSync(path.join(dist, "index.html"))) {
    throw new Error(`no release build in ${dist}: run \`trunk build --release\` first`);
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    // A second home for the data, as a course site might keep it (for `?data=`).
    if (url.pathname.startsWith(MIRROR)) {
      const file = path.join(dist, "data", path.basename(url.pathname));
      if (!fs.existsSync(file)) return res.writeHead(404).end("not found");
      const headers = { "content-type": "application/gzip", ...(cors && { "access-control-allow-origin": "*" }) };
      return res.writeHead(200, headers).end(fs.readFileSync(file));
    }
    if (!url.pathname.startsWith(PREFIX)) {
      res.writeHead(404).end("outside the course folder");
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(PREFIX.length)) || "index.html";
    const turn = (requests[rel] = (requests[rel] ?? 0) + 1);
    const answers = [overrides[rel]].flat();
    const answer = rel in overrides ? answers[Math.min(turn, answers.length) - 1] : undefined;
    if (answer === null) {
      res.writeHead(404).end("not found");
      return;
    }
    if (typeof answer === "function") {
      // A fault: the answer is written by hand, from the real file's bytes.
      answer(req, res, fs.readFileSync(path.join(dist, rel)));
      return;
    }
    if (answer !== undefined) {
      res.writeHead(200, { "content-type": TYPES[path.extname(rel)] ?? "application/octet-stream" });
      res.end(answer);
      return;
    }
    const file = path.join(dist, rel);
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-length": body.length,
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  const close = () => new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections(); // the browser's keep-alive sockets would hold close() up
  });
  return { url: `http://127.0.0.1:${port}${PREFIX}`, close, requests };
}

/**
 * Debian's Chromium, headless, with the flags this closed network needs. Service workers
 * are blocked unless asked for: every other test then also shows the page working
 * without one, and counts its own requests.
 */
export async function launchBrowser({ locale = "en-US", serviceWorkers = "block" } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-lab-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    locale,
    serviceWorkers,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file: the release build served and a browser launched before its tests
 * (then `setUp(shared)`, if given), both closed after them. Tests read `.server` and
 * `.browser`. (A file's own top-level `before` would run alongside this one, not after.)
 */
export function servedBuildAndBrowser(setUp = async () => {}) {
  const shared = {};
  before(async () => {
    shared.server = await serveDist();
    shared.browser = await launchBrowser();
    await setUp(shared);
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.close();
  });
  return shared;
}

/** Open `url`, recording uncaught page errors; waits until the app has wired itself. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return { page, errors };
}

/** Save a screenshot under target/e2e-screenshots: the full page, or one element. */
export async function screenshot(page, name, selector = null) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
}

/**
 * How far the page reaches past the screen's right edge (0 when it never scrolls
 * sideways), and the last few elements that do, not counting what scrolls inside its
 * own box (as the tables may).
 */
export async function sidewaysOverflow(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const clipped = (e) => {
      for (let a = e.parentElement; a; a = a.parentElement) if (getComputedStyle(a).overflowX !== "visible") return true;
      return false;
    };
    const past = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > width + 0.5 && !clipped(e));
    return { px: document.documentElement.scrollWidth - width, elements: past.slice(-3).map((e) => e.outerHTML.slice(0, 80)) };
  });
}

/** Wait until the text of `selector` matches `pattern`; returns the text. */
export async function waitForText(page, selector, pattern, timeout = 10_000) {
  const handle = await page.waitForFunction(
    ([sel, source, flags]) => {
      const text = document.querySelector(sel)?.textContent ?? "";
      return new RegExp(source, flags).test(text) && text;
    },
    [selector, pattern.source, pattern.flags],
    { timeout },
  );
  return handle.jsonValue();
}

/**
 * A fresh `Lab` of the page's wasm with MNIST loaded from the page's data folder, kept as
 * `window.__lab`: for the benchmarks, which time its steps without the page's UI.
 */
export async function loadBenchLab(page) {
  await page.evaluate(async () => {
    // The page's own list of files (the module is already loaded: this is its instance).
    const { FILES, dataBase } = await import(new URL("js/data.js", location.href).href);
    const lab = new window.wasmBindings.Lab();
    for (const { kind, name } of FILES) {
      lab.load_file(kind, name, new Uint8Array(await (await fetch(new URL(name, dataBase()))).arrayBuffer()));
    }
    lab.finish_loading(FILES.map((f) => f.name));
    window.__lab = lab;
  });
}

/** Draw strokes on the draw pad with the mouse; each stroke is a list of [x, y] in canvas CSS pixels. */
export async function drawStrokes(page, strokes) {
  const canvas = page.locator('[data-testid="draw-canvas"]');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  for (const stroke of strokes) {
    await page.mouse.move(box.x + stroke[0][0], box.y + stroke[0][1]);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
    await page.mouse.up();
  }
}

/** A straight stroke from (x0, y0) to (x1, y1) in n steps. */
export const line = (x0, y0, x1, y1, n = 12) => Array.from({ length: n + 1 }, (_, i) => [x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n]);

/** The page's prediction for the pad: the digit, and the confidence exactly as Rust gave it. */
export async function prediction(page) {
  const el = page.locator('[data-testid="prediction"]');
  return { digit: await el.getAttribute("data-digit"), confidence: await el.getAttribute("data-confidence") };
}

/** Let every task already queued run, and a frame paint: for "nothing more happens" checks. */
export async function settle(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0)))));
}

/**
 * A new page that records uncaught errors (`errors`) and every main-thread task over
 * 50 ms from its first load; `longTasksSince(t)` lists those that began at or after t
 * and lasted over 200 ms: a page that blocks (a step or check left whole) stalls for
 * seconds, while a shared, busy machine stretches a 30 ms task past 50. `make bench` and
 * `make soak` report the longest task as a figure.
 */
export const BLOCKING_MS = 200;
export async function pageRecordingLongTasks(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  const longTasksSince = async (start) => {
    assert.ok(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes("longtask")), "long tasks are observed");
    const tasks = (await page.evaluate(() => window.__longTasks)).filter((t) => t.start >= start);
    if (tasks.length) console.log(`longest main-thread task: ${Math.max(...tasks.map((t) => t.duration))} ms`);
    return tasks.filter((t) => t.duration > BLOCKING_MS);
  };
  return { page, errors, longTasksSince };
}

/** Start a gradient check of about 20 s (input 4096, no hidden layer, output 4, a batch of 7) and wait for its first step. */
export async function startLongCheck(page) {
  await page.fill('[data-testid="gc-input-dim"]', "4096");
  await page.fill('[data-testid="gc-hidden-dims"]', "");
  await page.fill('[data-testid="gc-output-dim"]', "4");
  await page.selectOption('[data-testid="gc-sample-kind"]', "batch");
  await page.fill('[data-testid="gc-batch"]', "7");
  await page.click('[data-testid="gradcheck-run"]');
  await page.waitForFunction(() => document.getElementById("gradcheck-progress").value > 0);
}
