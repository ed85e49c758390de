// What a screen reader finds on the real page, in both languages: names for the pad, the
// preview, the chart and every progress bar, and training milestones read out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBuildAndBrowser, openPage } from "./harness.mjs";

const shared = servedBuildAndBrowser();

const named = (page, role, name) => page.getByRole(role, { name, exact: true });

test("controls and figures have names in the page's language, and training milestones are announced", async () => {
  const { page, errors } = await openPage(shared.browser.context, `${shared.server.url}?lang=zh&train_limit=1280&epochs=2&lr=0.5&autostart=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  const { FILES } = await page.evaluate(() => import(new URL("js/data.js", location.href).href).then((m) => ({ FILES: m.FILES })));
  assert.equal(FILES.length, 4);
  for (const { name: file } of FILES) {
    assert.equal(await named(page, "progressbar", file).count(), 1, file);
  }
  assert.equal(await named(page, "progressbar", "本轮进度").count(), 1);
  assert.equal(await named(page, "img", "画板：用鼠标、手指或笔写一个数字，或按数字键 0 到 9 放上该数字的一张测试图像（Delete 键清除；其后是“清除”和“撤销”）").count(), 1);
  assert.equal(await named(page, "img", "模型看到的你的图像，28×28 像素").count(), 1);
  assert.equal(await named(page, "figure", "训练损失与测试准确率图表；下表列出每轮的数值").count(), 1);
  assert.equal(await page.getAttribute('[data-testid="lang-toggle"]', "lang"), "en");
  assert.equal(await page.getAttribute('[data-testid="prediction"] [aria-live]', "aria-live"), "polite");

  // The last milestone is the end of the run; the status line is not a live region, as it
  // changes ten times a second while training.
  const announce = page.locator('[data-testid="train-announce"]');
  assert.equal(await announce.getAttribute("aria-live"), "polite");
  assert.match(await announce.textContent(), /^已完成 2 轮：测试准确率 \d+\.\d\d%/);
  assert.equal(await page.getAttribute('[data-testid="train-status"]', "aria-live"), null);
  assert.deepEqual(await announce.evaluate((el) => [el.offsetWidth, el.offsetHeight]), [1, 1], "read out, not shown");

  await page.click('[data-testid="lang-toggle"]');
  assert.equal(await named(page, "img", "Drawing pad: draw one digit with the mouse, a finger or a pen, or press a digit key 0 to 9 to put a test image of that digit on it (Delete clears it; Clear and Undo follow)").count(), 1);
  assert.equal(await named(page, "progressbar", "Progress through the epoch").count(), 1);
  assert.equal(await page.getAttribute('[data-testid="lang-toggle"]', "lang"), "zh-CN");

  // Each finished epoch is announced as it ends, then the end of the run.
  await announce.evaluate((el) => {
    window.announced = [];
    new MutationObserver(() => window.announced.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 60_000 });
  const announced = await page.evaluate(() => window.announced);
  assert.equal(announced.length, 3, announced.join(" | "));
  assert.match(announced[0], /^Epoch 1 done: test accuracy \d+\.\d\d%\.$/);
  assert.match(announced[1], /^Epoch 2 done: test accuracy \d+\.\d\d%\.$/);
  assert.match(announced[2], /^Finished 2 epochs: test accuracy/);
  assert.deepEqual(errors, []);
});
