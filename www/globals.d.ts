// Types for `tsc --noEmit` over www/js (tsconfig.json at the root): what the page finds
// on `window` rather than imports. Not copied into dist/: only www/js and www/data are.
//
// The wasm exports, as src/web/ declares them. Arguments are typed, so a call with the
// wrong kind of value fails `make lint`; results are `any`: Rust returns plain JS values
// (JsValue) whose fields the calling module reads, as documented beside each Rust fn.

interface Lab {
  load_file(kind: string, name: string, bytes: Uint8Array): any;
  finish_loading(names: string[]): any;
  configure(fields: Record<string, string>): any;
  run(onProgress: (progress: any) => void): Promise<any>;
  pause(): void;
  stop(): void;
  reset(): any;
  csv(): string;
  predict(rgba: Uint8Array, width: number, height: number): any;
  test_size(): number;
  test_image_of(digit: number, nth: number): { index: number; pixels: Uint8Array } | null;
  has_model(): boolean;
  inspect_test(index: string, bug: string, lr: string): any;
  inspect_drawing(rgba: Uint8Array, width: number, height: number, label: number, bug: string, lr: string): any;
  next_misclassified(from: number): number | null;
  import_weights(bytes: Uint8Array): any;
  evaluate_imported(): any;
  score_model(): any;
  needs_score(): boolean;
  continue_training(fields: Record<string, string>): any;
  snapshot(): any;
  resume(fields: Record<string, string>, weights: Uint8Array, rows: ArrayLike<number>, within: ArrayLike<number>): any;
  export_weights(): any;
  gallery(truth: number, predicted: number, offset: number, limit: number): any;
  tiles(): any;
  unit(unit: number): any;
  model_info(): any;
  chain_rule(index: string, which: string): any;
  lesson_model(): any;
  free(): void;
}

interface GradientCheck {
  total(): number;
  run(onProgress: (progress: { done: number; total: number }) => void): Promise<any>;
  cancel(): void;
  free(): void;
}

/** One option of a choice field (src/schema.rs `Choice`). */
interface SchemaChoice {
  value: string;
  label: string;
  /** The string key whose text the page shows instead of `label`. */
  i18n: string | null;
}

/** A form field (src/schema.rs `Field`). */
interface SchemaField {
  name: string;
  default: string;
  kind: "count" | "dims" | "positive" | "fraction" | "choice";
  min: number | null;
  max: number | null;
  optional: boolean;
  choices: SchemaChoice[];
  /** Shown (and read) only when the field `field` holds one of `values`. */
  shownWhen: { field: string; values: string[] } | null;
}

/** The page's choices, from `schema()`. */
interface Schema {
  train: SchemaField[];
  check: SchemaField[];
  presets: { name: string; values: Record<string, string> }[];
}

interface WasmBindings {
  schema(): Schema;
  /** Every refusal in the training form's fields at once. */
  train_problems(fields: Record<string, string>): { ok: false; field: string; code: string; args: string[] }[];
  Lab: new () => Lab;
  /** Throws a refusal `{ok: false, field, code, args}` for fields it cannot check. */
  GradientCheck: new (fields: Record<string, string>) => GradientCheck;
  check_file_size(bytes: number): any;
  check_bundle(bytes: Uint8Array): any;
  panic_for_test(): void;
}

interface Window {
  /** Set by Trunk's loader before it fires `TrunkApplicationStarted`. */
  wasmBindings?: WasmBindings;
}

/** What a form's `elements` holds on this page: each has `disabled`. */
type FormControl = HTMLInputElement | HTMLSelectElement | HTMLButtonElement | HTMLFieldSetElement | HTMLTextAreaElement;
