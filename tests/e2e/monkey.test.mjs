// A seeded monkey: 500 random actions a classroom might take (every button, hostile text
// in every field, the language toggle, strokes, random files, resizes), and after each
// one the page must hold together. On failure it prints the seed and the actions taken,
// so MONKEY_SEED=<seed> replays them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();
const ACTIONS = Number(process.env.MONKEY_ACTIONS ?? 500);
const SEED = Number(process.env.MONKEY_SEED ?? 20261201);

/** mulberry32: a small seeded generator, the same run for the same seed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE = ["", " ", "-1", "0", "1e309", "NaN", "１６，４", "[16, 4]", "<img src=x onerror=alert(1)>", "9".repeat(60),
  "0.5", "3", "64", "abc", "1,,2", "\u202e42", "4096,4096,4096", "100000", "0.0000001", "💥"];
const VALID_STATES = ["idle", "loading", "ready", "training", "paused", "done", "error"];

test(`${ACTIONS} random actions never break the page (seed ${SEED})`, async () => {
  const random = generator(SEED);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=en&train_limit=3200&epochs=2&lr=0.5`);
  page.on("dialog", (d) => d.dismiss());
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "backprop-lab-monkey-"));
  const taken = [];

  const actions = {
    async button() {
      // Found and pressed in the page itself: one round trip, not one per button.
      const name = await page.evaluate((r) => {
        const all = [...document.querySelectorAll("main button:not([disabled]), #lang-toggle")].filter((b) => b.offsetParent !== null);
        const b = all[Math.floor(r * all.length)];
        if (!b) return "no button";
        b.click();
        return `click ${b.dataset.testid ?? b.textContent.trim().slice(0, 20)}`;
      }, random());
      return name;
    },
    async field() {
      const fields = await page.$$("main input:not([type=file]):not([type=hidden]):not([type=checkbox]):not([disabled])");
      if (!fields.length) return "no field";
      const f = pick(fields);
      const text = random() < 0.5 ? pick(HOSTILE) : String(Math.floor(random() * 300));
      await f.fill(text, { timeout: 250 }).catch(() => {});
      if (random() < 0.3) await f.press("Enter", { timeout: 250 }).catch(() => {});
      return `fill ${await f.getAttribute("name")} ${JSON.stringify(text)}`;
    },
    async select() {
      const selects = await page.$$("main select:not([disabled])");
      if (!selects.length) return "no select";
      const s = pick(selects);
      const values = await s.$$eval("option", (os) => os.map((o) => o.value));
      const value = pick(values);
      await s.selectOption(value, { timeout: 250 }).catch(() => {});
      return `select ${await s.getAttribute("name")} ${value}`;
    },
    async language() {
      await page.click('[data-testid="lang-toggle"]', { timeout: 250 }).catch(() => {});
      return "language";
    },
    async stroke() {
      const canvas = page.locator('[data-testid="draw-canvas"]');
      await canvas.scrollIntoViewIfNeeded();
      const box = await canvas.boundingBox();
      const [x0, y0, x1, y1] = [random(), random(), random(), random()].map((v) => 10 + v * (box.width - 20));
      await page.mouse.move(box.x + x0, box.y + y0);
      await page.mouse.down();
      await page.mouse.move(box.x + x1, box.y + y1, { steps: 5 });
      await page.mouse.up();
      return "stroke";
    },
    async file() {
      const input = pick(['[data-testid="weights-import"]', '[data-testid="bundle-import"]']);
      if (await page.isDisabled(input)) return "file input disabled";
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
      const file = path.join(scratch, `random-${taken.length}.safetensors`);
      fs.writeFileSync(file, bytes);
      await page.setInputFiles(input, file, { timeout: 250 }).catch(() => {});
      return `file ${input} ${bytes.length} bytes`;
    },
    async resize() {
      const width = pick([320, 375, 768, 1280]);
      await page.setViewportSize({ width, height: 800 });
      return `resize ${width}`;
    },
  };
  const weights = [["button", 8], ["field", 4], ["select", 2], ["language", 1], ["stroke", 2], ["file", 1], ["resize", 1]];
  const total = weights.reduce((s, [, w]) => s + w, 0);

  for (let i = 0; i < ACTIONS; i++) {
    let r = random() * total;
    const [kind] = weights.find(([, w]) => (r -= w) < 0) ?? weights[0];
    taken.push(await actions[kind]());
    const state = await page.evaluate(() => {
      const status = document.querySelector('[data-testid="train-status"]');
      const enabled = (id) => !document.querySelector(`[data-testid="${id}"]`).disabled;
      const error = document.querySelector('[data-testid="train-error"]');
      return {
        state: status.dataset.state,
        start: enabled("train-start"),
        pause: enabled("train-pause"),
        resume: enabled("train-resume"),
        // A figure shown as NaN; a message quoting what was typed ("NaN" is not a number) is fine.
        nan: (() => {
          const main = document.querySelector("main").cloneNode(true);
          main.querySelectorAll(".field-error, .banner.error").forEach((e) => e.remove());
          return /\bNaN\b/.test(main.textContent);
        })(),
        diverged: !error.hidden && /diverged|发散/.test(error.textContent),
      };
    });
    const context = `seed ${SEED}, action ${i}: ${taken.slice(-5).join(" | ")}\nall actions: ${JSON.stringify(taken)}`;
    assert.deepEqual(errors.map(String), [], context);
    assert.ok(VALID_STATES.includes(state.state), `state ${state.state}; ${context}`);
    if (state.state === "training") assert.ok(!state.start && state.pause, `buttons in training; ${context}`);
    if (state.state === "paused") assert.ok(state.resume && !state.start && !state.pause, `buttons when paused; ${context}`);
    if (["ready", "done"].includes(state.state)) assert.ok(!state.pause && !state.resume, `buttons at rest; ${context}`);
    assert.ok(!state.nan || state.diverged, `NaN shown without the divergence message; ${context}`);
  }
  await page.close();
});
