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
const hash = crypto.createHash("sha256");
for (const file of files) hash.update(file).update(fs.readFileSync(path.join(root, file)));
const version = hash.digest("hex").slice(0, 16);
// The folder and index.html both: a course may link either, and either first visit must
// be enough to work offline.
const precache = ["./", ...files];

const worker = `// Written by scripts/sw.mjs at build time: the app shell and MNIST, cache ${version}.
const CACHE = "backprop-lab-${version}";
const PRECACHE = ${JSON.stringify(precache)};

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE);
    // The ?data= files of the pages open now: a first visit fetched them before this
    // worker could see them, and a new version's cache starts without them. A file that
    // cannot be had now is cached when it next comes.
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    await Promise.allSettled(pages.flatMap((page) => dataFiles(page.url)).map((url) => cache.add(url)));
  })());
});

// The MNIST files a page at \`address\` loads with ?data=, found as data.js's dataBase()
// finds them; none for a page outside this worker's scope or on its own data.
function dataFiles(address) {
  if (!address.startsWith(self.registration.scope)) return [];
  const custom = new URL(address).searchParams.get("data");
  if (!custom) return [];
  let base;
  try {
    base = new URL(custom, address);
  } catch (_) {
    return [];
  }
  if (!["http:", "https:"].includes(base.protocol)) return [];
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return PRECACHE.filter((f) => /^data\\/[^/]+-ubyte(\\.gz)?$/.test(f)).map((f) => new URL(f.slice(5), base).href);
}

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
  // MNIST from ?data= is cached as it is fetched, like the page's own files.
  const data = /-ubyte(\\.gz)?$/.test(url.pathname);
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
