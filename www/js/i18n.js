// Every user-facing string, in English and Chinese. Error codes from Rust
// (`src/fields.rs` Problem codes) are keys here too; {0}, {1} are their arguments.
export const STRINGS = {
  en: {
    title: "Backprop Lab",
    subtitle: "A multilayer perceptron with a hand-written backward pass, in Rust compiled to WebAssembly.",
    lang_toggle: "中文",
    loading_wasm: "Loading WebAssembly…",
    wasm_failed: "The WebAssembly module failed to load: {0}. Reload the page; if it persists, the site may be incomplete.",
    panic: "Internal error (Rust panic): {0}. The page may need a reload.",
    footer: "Forward and backward passes are written by hand in src/mlp.rs; gradients are checked against finite differences and PyTorch autograd.",
    seed: "Random seed",

    gc_title: "1 · Are my gradients right?",
    gc_intro: "The model is the assignment's CustomMLP: {Linear → Sigmoid} × (L−1) → Linear. Its backward pass is written by hand. Here it is compared with central finite differences computed in double precision, tensor by tensor.",
    gc_how: "What is checked, and how",
    gc_forward_label: "Forward pass (cached under the notebook's names input, fc{i}, sigmoid{i}, output):",
    gc_backward_label: "Backward pass, from the loss gradient g back to every weight, bias and the input:",
    gc_numeric_label: "Reference: nudge each parameter up and down and watch the loss change:",
    gc_code: "Code: src/mlp.rs (forward and backward side by side), src/loss.rs, src/gradcheck.rs. The output error compares the forward pass with an independent plain-loop forward.",
    gc_input_dim: "Input dimension",
    gc_hidden_dims: "Hidden dimensions",
    gc_output_dim: "Output dimension",
    gc_loss: "Loss",
    loss_mse: "MSE (mean)",
    loss_ce: "Softmax cross-entropy",
    gc_sample: "Input",
    gc_single: "One 1-D sample (in,)",
    gc_batch: "A batch (B, in)",
    gc_batch_size: "Batch size B",
    gc_run: "Run check",
    gc_running: "Checking…",
    gc_col_name: "Tensor",
    gc_col_shape: "Shape",
    gc_col_grad_shape: "Gradient shape",
    gc_col_error: "‖manual − numeric‖₂",
    gc_col_rel: "Largest relative error",
    gc_col_pass: "Pass",
    gc_summary: "Loss {0}. Output error {1} ({2}). {3} of {4} gradients pass the bar ‖error‖₂ < {5}.",
    gc_input_row: "input (∂L/∂x)",
    pass: "pass",
    fail: "FAIL",

    required: "Enter a value.",
    not_integer: "“{0}” is not a whole number.",
    not_number: "“{0}” is not a number.",
    not_positive: "“{0}” must be greater than 0.",
    too_small: "{0} is too small: the least allowed is {1}.",
    too_large: "{0} is too large: the most allowed is {1}.",
    empty_width: "There is an empty width between two commas.",
    ce_needs_two_classes: "Cross-entropy needs at least 2 output classes.",
    check_too_costly: "{0} parameters with batch {1} is too large to check quickly (at most {2} parameters). Each parameter costs two forward passes.",
    unknown_loss: "Unknown loss “{0}”.",
  },
  zh: {
    title: "反向传播实验室",
    subtitle: "手写反向传播的多层感知机，用 Rust 编写并编译为 WebAssembly。",
    lang_toggle: "English",
    loading_wasm: "正在加载 WebAssembly…",
    wasm_failed: "WebAssembly 模块加载失败：{0}。请刷新页面；若仍失败，站点文件可能不完整。",
    panic: "内部错误（Rust panic）：{0}。可能需要刷新页面。",
    footer: "前向与反向传播在 src/mlp.rs 中手写；梯度与有限差分及 PyTorch 自动求导对照检验。",
    seed: "随机种子",

    gc_title: "1 · 我的梯度对吗？",
    gc_intro: "模型即作业中的 CustomMLP：{Linear → Sigmoid} × (L−1) → Linear，反向传播为手写。这里逐个张量与双精度中心有限差分比较。",
    gc_how: "检验什么、如何检验",
    gc_forward_label: "前向传播（缓存名与笔记本一致：input、fc{i}、sigmoid{i}、output）：",
    gc_backward_label: "反向传播：从损失梯度 g 回传到每个权重、偏置和输入：",
    gc_numeric_label: "参照：把每个参数上下微调，观察损失的变化：",
    gc_code: "代码：src/mlp.rs（前向与反向并列）、src/loss.rs、src/gradcheck.rs。输出误差将前向结果与独立的逐元素循环实现比较。",
    gc_input_dim: "输入维度",
    gc_hidden_dims: "隐藏层维度",
    gc_output_dim: "输出维度",
    gc_loss: "损失函数",
    loss_mse: "均方误差 MSE（取平均）",
    loss_ce: "Softmax 交叉熵",
    gc_sample: "输入",
    gc_single: "单个一维样本 (in,)",
    gc_batch: "一个批次 (B, in)",
    gc_batch_size: "批大小 B",
    gc_run: "运行检验",
    gc_running: "检验中…",
    gc_col_name: "张量",
    gc_col_shape: "形状",
    gc_col_grad_shape: "梯度形状",
    gc_col_error: "‖手写 − 数值‖₂",
    gc_col_rel: "最大相对误差",
    gc_col_pass: "通过",
    gc_summary: "损失 {0}。输出误差 {1}（{2}）。{4} 个梯度中 {3} 个满足 ‖误差‖₂ < {5}。",
    gc_input_row: "输入 (∂L/∂x)",
    pass: "通过",
    fail: "未通过",

    required: "请输入一个值。",
    not_integer: "“{0}” 不是整数。",
    not_number: "“{0}” 不是数字。",
    not_positive: "“{0}” 必须大于 0。",
    too_small: "{0} 太小：最小允许 {1}。",
    too_large: "{0} 太大：最大允许 {1}。",
    empty_width: "两个逗号之间缺少宽度。",
    ce_needs_two_classes: "交叉熵至少需要 2 个输出类别。",
    check_too_costly: "{0} 个参数、批大小 {1}：规模太大，无法快速检验（最多 {2} 个参数）。每个参数需要两次前向传播。",
    unknown_loss: "未知的损失函数 “{0}”。",
  },
};

const STORAGE_KEY = "backprop-lab-lang";
let current = pickLanguage();

function pickLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl in STRINGS) return fromUrl;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved in STRINGS) return saved;
  } catch (_) { /* storage may be blocked */ }
  const preferred = navigator.languages || [navigator.language || "en"];
  return preferred.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

/** The string for `key` in the current language, with {0}, {1} … filled from `args`. */
export function t(key, args = []) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? String(args[i]) : m));
}

export function language() {
  return current;
}

const listeners = [];
/** Call `fn` now and whenever the language changes. */
export function onLanguageChange(fn) {
  listeners.push(fn);
  fn();
}

function applyStatic() {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.getElementById("lang-toggle").textContent = t("lang_toggle");
  document.title = t("title");
}

export function setLanguage(lang) {
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch (_) { /* ignore */ }
  applyStatic();
  listeners.forEach((fn) => fn());
}

export function initLanguage() {
  applyStatic();
  document.getElementById("lang-toggle").addEventListener("click", () => setLanguage(current === "en" ? "zh" : "en"));
}
