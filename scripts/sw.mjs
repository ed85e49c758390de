// Trunk post-build hook (release builds): writes sw.js, the service worker that keeps the
// page working offline after one visit. Its cache is named after a hash of every file it
// holds, so a new deployment never mixes an old .js with a new .wasm: the new worker
// fills a new cache, and the page offers a reload once it is ready.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

if (process.env.TRUNK_PROFILE !== "release") process.exit(0);
const root = process.env.TRUNK_STAGING_DIR;
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name !== "sw.js") files.push(path.relative(root, full).split(path.sep).join("/"));
  }
})(root);
files.sort();
// What a first visit downloads (the page, its code, MNIST), for the page to say: written
// into index.html before the hash, so the cache's name covers it too.
const firstVisitBytes = files.reduce((sum, f) => sum + fs.statSync(path.join(root, f)).size, 0);
const indexPath = path.join(root, "index.html");
fs.writeFileSync(indexPath, fs.readFileSync(indexPath, "utf8").replace(
  /<meta name="first-visit-bytes" content="[^"]*"/, `<meta name="first-visit-bytes" content="${firstVisitBytes}"`));
const hash = crypto.createHash("sha256");
for (const file of files) hash.update(file).update(fs.readFileSync(path.join(root, file)));
const version = hash.digest("hex").slice(0, 16);
// The folder and index.html both: a course may link either, and either first visit must
// be enough to work offline. MNIST is not fetched here but kept as the page fetches it
// through this worker (the page waits for it on a first visit), so it comes down once.
const isData = (f) => /^data\/[^/]+-ubyte(\.gz)?$/.test(f);
const precache = ["./", ...files.filter((f) => !isData(f))];

const worker = `// Written by scripts/sw.mjs at build time: the app shell, cache ${version}; MNIST is
// kept as the page fetches it.
const CACHE = "backprop-lab-${version}";
const PRECACHE = ${JSON.stringify(precache)};
const DATA = /-ubyte(\\.gz)?$/;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE);
    // MNIST (the page's own or ?data='s) that an earlier version kept: a new version
    // starts with it rather than download it again.
    for (const name of await caches.keys()) {
      if (!name.startsWith("backprop-lab-") || name === CACHE) continue;
      const old = await caches.open(name);
      for (const request of await old.keys()) {
        if (DATA.test(new URL(request.url).pathname)) await cache.put(request, await old.match(request));
      }
    }
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("backprop-lab-") && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

// The page asks the waiting worker to take over once the student chooses to reload.
self.addEventListener("message", (event) => { if (event.data === "take-over") self.skipWaiting(); });

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const ours = url.origin === self.location.origin;
  // MNIST, the page's own or from ?data=, is kept as it is fetched.
  const data = DATA.test(url.pathname);
  if (!ours && !data) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // The page with any ?query is the one page; files are matched exactly.
    const hit = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
    if (hit) return hit;
    const response = await fetch(request);
    if (response.ok && (data || ours)) cache.put(request, response.clone());
    return response;
  })());
});
`;
fs.writeFileSync(path.join(root, "sw.js"), worker);
console.log(`sw.js written: cache ${version}, ${precache.length} files`);
