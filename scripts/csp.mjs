// Trunk post-build hook: writes the page's Content-Security-Policy as a <meta> tag, with
// the hash of every inline script the build leaves in index.html (Trunk's wasm loader and
// the file:// notice), so no other inline script runs. Release builds only: `trunk serve`
// injects its own reload script. Connections may go to any http(s) origin here; the page
// narrows that to its own origin and ?data='s before it fetches (www/js/data.js).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

if (process.env.TRUNK_PROFILE !== "release") process.exit(0);
const file = path.join(process.env.TRUNK_STAGING_DIR, "index.html");
const html = fs.readFileSync(file, "utf8");
const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map(([, body]) => `'sha256-${crypto.createHash("sha256").update(body).digest("base64")}'`);
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(" ")}`,
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' http: https:",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join("; ");
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
if (html.includes('http-equiv="Content-Security-Policy"')) throw new Error("index.html already has a CSP");
fs.writeFileSync(file, html.replace(/<head>/, `<head>\n  ${meta}`));
console.log(`CSP written with ${hashes.length} inline script hash(es)`);
