// @ts-check
// The page's own events, all dispatched on `window`: how one section tells the others
// that something happened without importing them. Every name is here with its payload
// (`event.detail`); the sections dispatch with `emit` and listen with `on`, so a typo in
// a name or a payload of the wrong shape fails `make lint`.

/** The training section's state changed. Payload: the new state. */
export const TRAIN_STATE = "train-state";
/** An epoch ended (test accuracy and loss measured). Payload: Rust's progress record. */
export const EPOCH_DONE = "epoch-done";
/** A run began (Start, Continue from a loaded model, or a saved run resumed). */
export const RUN_STARTED = "run-started";
/** The first batch of an epoch moved the weights: what was measured before is stale. */
export const MODEL_MOVED = "model-moved";
/** The weights changed (a batch, at most 4 times a second; a new or reset model). */
export const MODEL_CHANGED = "model-changed";
/** The weights changed for good: a pause, a run's end, a reset, a model loaded. */
export const MODEL_SETTLED = "model-settled";
/** A loaded model has been scored on the test set. */
export const MODEL_EVALUATED = "model-evaluated";
/** A "break the backward" mistake was chosen in section 1 or in the step panel. */
export const BUG_CHOSEN = "bug-chosen";
/** MNIST is downloaded and parsed: training and the step panel may start. */
export const DATA_READY = "data-ready";
/** A training batch measured each layer's gradient. Payload: Rust's `{x, gradNorms, updateRatios}`. */
export const GRAD_FLOW = "grad-flow";
/** Dispatched by Rust's panic hook (src/web/), not by JS. Payload: the panic message. */
export const WASM_PANIC = "wasm-panic";
/** Dispatched by Trunk's wasm loader once `window.wasmBindings` is set. No payload. */
export const TRUNK_STARTED = "TrunkApplicationStarted";

/** @typedef {"idle" | "loading" | "ready" | "training" | "paused" | "done" | "error"} TrainState */

/**
 * `{counts, shares, recall}`: the 10x10 counts row by row (`[truth * 10 + predicted]`),
 * each as a share of its row, and each row's recall.
 * @typedef {{ counts: Uint32Array, shares: Float64Array, recall: Float64Array }} Confusion
 */

/**
 * Rust's record of an epoch's end (src/web/: `progress_to_js`).
 * @typedef {object} EpochProgress
 * @property {"epoch"} kind
 * @property {number} epoch one-based
 * @property {number} epochs the run's total
 * @property {number} avgLoss the epoch's mean training loss
 * @property {number} testAccuracy in percent
 * @property {number} testLoss
 * @property {number} seconds the epoch's training time
 * @property {number} epochSamplesPerS
 * @property {Confusion | null} confusion of the test set, when it was evaluated
 * @property {number} smoothedLoss
 * @property {number} samplesPerS
 * @property {number} elapsedS
 */

/**
 * One finished epoch as the runs list keeps it (also a resumed run's earlier epochs).
 * @typedef {{ epoch: number, avgLoss: number, testAccuracy: number, testLoss: number,
 *   seconds: number, epochSamplesPerS: number }} EpochRow
 */

/**
 * A run's settings: the training form's fields as strings (`hidden`, `lr`, `batch`,
 * `act`, `opt`, `bug`, ...), as the form, the URL and the runs list hold them.
 * @typedef {Record<string, string>} RunConfig
 */

/**
 * @typedef {object} RunStarted
 * @property {RunConfig} config
 * @property {boolean} continued it goes on from the model before it (Continue training)
 * @property {string} id
 * @property {EpochRow[]} rows the epochs it already has (a resumed run), else none
 * @property {boolean} [brief] one of the lesson's short runs: not saved to be resumed
 */

/** @typedef {{ bug: string, from: "step" | "gradcheck" }} BugChosen */
/** A loaded model scored, or a restored run scored again (`epoch`: its last, 1-based).
 * @typedef {{ confusion: Confusion, accuracy: number, epoch?: number }} ModelEvaluated */

/**
 * Each event's payload, by name (`undefined`: the event is the news).
 * @typedef {{
 *   "train-state": TrainState,
 *   "epoch-done": EpochProgress,
 *   "run-started": RunStarted,
 *   "model-moved": undefined,
 *   "model-changed": undefined,
 *   "model-settled": undefined,
 *   "model-evaluated": ModelEvaluated,
 *   "bug-chosen": BugChosen,
 *   "data-ready": undefined,
 *   "wasm-panic": string,
 *   "grad-flow": { x: number, gradNorms: Float64Array, updateRatios: Float64Array },
 * }} EventDetails
 */

/**
 * Dispatch `name` on `window` with its payload.
 * @template {keyof EventDetails} K
 * @param {K} name
 * @param {EventDetails[K]} [detail]
 */
export function emit(name, detail) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

/**
 * Call `listener` with the payload each time `name` is dispatched on `window`.
 * @template {keyof EventDetails} K
 * @param {K} name
 * @param {(detail: EventDetails[K]) => void} listener
 */
export function on(name, listener) {
  window.addEventListener(name, (event) => listener(/** @type {CustomEvent<EventDetails[K]>} */ (event).detail));
}
