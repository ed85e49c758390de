// The README's commands for a teacher, as a fresh shell runs them after set-up: a second
// set-up installs nothing, and a plain `trunk build --release` (no node_modules/.bin on
// the PATH, as `make` would add) builds the whole site.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./harness.mjs";

/** The PATH a new shell has: without the project's node_modules/.bin. */
function plainPath() {
  return process.env.PATH.split(path.delimiter).filter((dir) => !dir.includes("node_modules")).join(path.delimiter);
}

test("a second set-up finds every tool present", () => {
  const run = spawnSync("scripts/setup.sh", { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: plainPath() } });
  assert.equal(run.status, 0, run.stderr);
  const tools = run.stdout.split("\n").filter((line) => line.includes("==>") && !/MNIST|cargo fetch|complete/.test(line));
  assert.ok(tools.length >= 7, run.stdout);
  for (const line of tools) assert.match(line, /: present/, line);
});

test("a plain trunk build --release works after set-up, wasm-opt included", () => {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), "plain-build-"));
  try {
    const run = spawnSync("trunk", ["build", "--release", "--dist", dist], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: plainPath() }, timeout: 20 * 60_000,
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    // Offline, Trunk refuses to build when it cannot find wasm-opt 132 on the PATH.
    assert.doesNotMatch(run.stderr + run.stdout, /couldn't find/);
    for (const file of ["index.html", "sw.js", "data/train-images-idx3-ubyte.gz"]) {
      assert.ok(fs.existsSync(path.join(dist, file)), file);
    }
    assert.ok(fs.readdirSync(dist).some((f) => f.endsWith("_bg.wasm")));
  } finally {
    fs.rmSync(dist, { recursive: true, force: true });
  }
});
