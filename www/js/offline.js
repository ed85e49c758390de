// @ts-check
// Works offline after one visit: the service worker (written by scripts/sw.mjs at build
// time) keeps the page and MNIST. When a new version is deployed, the page offers a
// reload rather than mixing versions, and never reloads by itself mid-run.
import { t } from "./i18n.js";

/** How long a first visit waits for its worker before fetching MNIST without it. */
const FIRST_VISIT_WAIT_MS = 10_000;

/** @type {Promise<ServiceWorkerRegistration | null> | null} */
let registered = null;
/** The worker's registration, made once; null where a browser or host has none. */
function register() {
  const possible = "serviceWorker" in navigator && location.protocol.startsWith("http");
  registered ??= possible ? navigator.serviceWorker.register("sw.js").then((r) => r ?? null, () => null) : Promise.resolve(null);
  return registered;
}

/**
 * Resolves once the worker controls the page, so that MNIST passes through it and is
 * downloaded once (a private window's memory-only cache would fetch it twice otherwise);
 * at once where it already does or cannot, and after FIRST_VISIT_WAIT_MS at most.
 */
export async function workerInCharge() {
  if (!(await register()) || navigator.serviceWorker.controller) return;
  await Promise.race([
    new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true })),
    new Promise((resolve) => setTimeout(resolve, FIRST_VISIT_WAIT_MS)),
  ]);
}

/** @param {import("./train.js").Training} training */
export function initOffline(training) {
  const banner = /** @type {HTMLElement} */ (document.querySelector('[data-testid="update-banner"]'));
  if (!("serviceWorker" in navigator) || !location.protocol.startsWith("http")) return;
  register().then((registration) => {
    if (!registration) throw new Error("no registration"); // a browser that blocks workers
    const offer = (worker) => {
      banner.hidden = false;
      banner.querySelector("button").onclick = () => {
        if (training.state() === "training" && !confirm(t("sw_confirm"))) return;
        worker.postMessage("take-over");
      };
    };
    // A worker already waiting, or one that finishes installing while a page it does not control is open.
    if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker?.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
      });
    });
    document.body.dataset.offline = "ready";
  }).catch(() => {
    // A host or browser that refuses service workers changes nothing else.
    document.body.dataset.offline = "unavailable";
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!banner.hidden && !reloading) {
      reloading = true;
      location.reload();
    }
  });
}
