// @ts-check
// The lesson "Predict, then see" (issue 27), as data: each step's question, its choices
// (each with the sentence it earns), and which computation reveals the answer. To add a
// step, add an entry here, its strings to i18n/en.js and zh.js (the keys below), and, for
// a computation the lesson does not know yet, a function of that name in REVEALS
// (www/js/lesson.js). No number lives here: every figure a reveal shows is Rust's.

/**
 * One choice. `text`: a string key, or `literal`: code shown as is (a shape, a
 * tensor's name). `feedback`: the key of the sentence shown when it is picked (for a
 * tick box: when it is ticked wrongly or left unticked wrongly).
 * @typedef {{ id: string, text?: string, literal?: string, right: boolean, feedback: string }} Choice
 */

/**
 * One step. `kind`: `one` (buttons, one answers) or `many` (tick boxes, then Answer).
 * `reveal`: a name in lesson.js's REVEALS, with `args` for it.
 * @typedef {{ id: string, title: string, question: string, kind: "one" | "many",
 *   choices: Choice[], reveal: string, args?: Record<string, string> }} Step
 */

/** @type {Step[]} — the right choice sits in a different place in each step. */
export const STEPS = [
  {
    id: "shapes", title: "ls_shapes_title", question: "ls_shapes_q", kind: "one", reveal: "shapes",
    choices: [
      { id: "784x256", literal: "(784, 256)", right: false, feedback: "ls_shapes_fb_transposed" },
      { id: "64x256", literal: "(64, 256)", right: false, feedback: "ls_shapes_fb_batch" },
      { id: "256x784", literal: "(256, 784)", right: true, feedback: "ls_shapes_fb_right" },
      { id: "64x784", literal: "(64, 784)", right: false, feedback: "ls_shapes_fb_input" },
    ],
  },
  {
    id: "chain_output", title: "ls_out_title", question: "ls_out_q", kind: "one", reveal: "chain", args: { which: "output" },
    choices: [
      { id: "positive", text: "ls_sign_positive", right: false, feedback: "ls_out_fb_positive" },
      { id: "negative", text: "ls_sign_negative", right: true, feedback: "ls_out_fb_right" },
      { id: "zero", text: "ls_sign_zero", right: false, feedback: "ls_out_fb_zero" },
    ],
  },
  {
    id: "chain_first", title: "ls_first_title", question: "ls_first_q", kind: "one", reveal: "chain", args: { which: "first" },
    choices: [
      { id: "1", literal: "1", right: false, feedback: "ls_first_fb_one" },
      { id: "256", literal: "256", right: false, feedback: "ls_first_fb_hidden" },
      { id: "10", literal: "10", right: true, feedback: "ls_first_fb_right" },
      { id: "784", literal: "784", right: false, feedback: "ls_first_fb_pixels" },
    ],
  },
  {
    id: "blank", title: "ls_blank_title", question: "ls_blank_q", kind: "one", reveal: "chain", args: { which: "blank" },
    choices: [
      { id: "small", text: "ls_blank_small", right: false, feedback: "ls_blank_fb_small" },
      { id: "zero", text: "ls_blank_zero", right: true, feedback: "ls_blank_fb_right" },
      { id: "same", text: "ls_blank_same", right: false, feedback: "ls_blank_fb_same" },
      { id: "large", text: "ls_blank_large", right: false, feedback: "ls_blank_fb_large" },
    ],
  },
  {
    id: "broken_rows", title: "ls_rows_title", question: "ls_rows_q", kind: "many", reveal: "check",
    args: { bug: "no_sigmoid_derivative" },
    choices: [
      { id: "layers.0.weight", literal: "layers.0.weight", right: true, feedback: "ls_rows_fb_layers0" },
      { id: "layers.0.bias", literal: "layers.0.bias", right: true, feedback: "ls_rows_fb_layers0" },
      { id: "layers.1.weight", literal: "layers.1.weight", right: true, feedback: "ls_rows_fb_layers1" },
      { id: "layers.1.bias", literal: "layers.1.bias", right: true, feedback: "ls_rows_fb_layers1" },
      { id: "output_layer.weight", literal: "output_layer.weight", right: false, feedback: "ls_rows_fb_output_weight" },
      { id: "output_layer.bias", literal: "output_layer.bias", right: false, feedback: "ls_rows_fb_output_bias" },
      { id: "input", text: "ls_rows_input", right: true, feedback: "ls_rows_fb_input" },
    ],
  },
  {
    id: "loss_down", title: "ls_loss_title", question: "ls_loss_q", kind: "one", reveal: "lossDown",
    choices: [
      { id: "both", text: "ls_loss_both", right: false, feedback: "ls_loss_fb_both" },
      { id: "sign", text: "ls_loss_sign", right: false, feedback: "ls_loss_fb_sign" },
      { id: "neither", text: "ls_loss_neither", right: false, feedback: "ls_loss_fb_neither" },
      { id: "derivative", text: "ls_loss_derivative", right: true, feedback: "ls_loss_fb_right" },
    ],
  },
  {
    id: "bias_batch", title: "ls_bias_title", question: "ls_bias_q", kind: "one", reveal: "biasBatch",
    choices: [
      { id: "biases", text: "ls_bias_biases", right: false, feedback: "ls_bias_fb_biases" },
      { id: "all", text: "ls_bias_all", right: false, feedback: "ls_bias_fb_all" },
      { id: "no", text: "ls_bias_no", right: true, feedback: "ls_bias_fb_right" },
      { id: "weights", text: "ls_bias_weights", right: false, feedback: "ls_bias_fb_weights" },
    ],
  },
  {
    id: "learning_rate", title: "ls_lr_title", question: "ls_lr_q", kind: "one", reveal: "learningRate",
    choices: [
      { id: "same", text: "ls_lr_same", right: false, feedback: "ls_lr_fb_same" },
      { id: "fast_wins", text: "ls_lr_fast_wins", right: true, feedback: "ls_lr_fb_right" },
      { id: "slow_wins", text: "ls_lr_slow_wins", right: false, feedback: "ls_lr_fb_slow_wins" },
      { id: "both_low", text: "ls_lr_both_low", right: false, feedback: "ls_lr_fb_both_low" },
    ],
  },
  {
    id: "deep_sigmoid", title: "ls_deep_title", question: "ls_deep_q", kind: "one", reveal: "deepSigmoid",
    choices: [
      { id: "last_hidden", literal: "layers.3", right: false, feedback: "ls_deep_fb_last_hidden" },
      { id: "output", literal: "output_layer", right: false, feedback: "ls_deep_fb_output" },
      { id: "same", text: "ls_deep_same", right: false, feedback: "ls_deep_fb_same" },
      { id: "first", literal: "layers.0", right: true, feedback: "ls_deep_fb_right" },
    ],
  },
];
