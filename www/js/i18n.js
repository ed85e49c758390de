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
    gc_code: "Code: src/mlp.rs (forward, then backward, each line beside the notebook's Python), src/loss.rs, src/gradcheck.rs. The output error compares the forward pass with an independent plain-loop forward.",
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
    gc_progress: "Checking: {0} of {1} numbers differentiated.",
    gc_cancel: "Cancel",
    gc_over_batch: "batch",
    gc_cancelled: "Check cancelled.",
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
    too_many_parameters: "These layers make a network of {0} weights and biases; the page trains at most {1} (memory, and seconds per batch). Use fewer or narrower layers.",
    empty_width: "A width is missing from the list: remove the extra comma.",
    too_many_layers: "{0} hidden layers is too many; the page takes at most {1}.",
    batch_too_costly: "A batch of {0} through {1} parameters is about {2} multiply-adds a step, too much for the page to stay responsive (at most {3}). Use a smaller batch or smaller layers.",
    ce_needs_two_classes: "Cross-entropy needs at least 2 output classes.",
    check_too_costly: "This check would take about {0} s; the page runs checks of up to about {1} s. Each parameter and input costs two forward passes of the batch: make it smaller.",
    unknown_loss: "Unknown loss “{0}”.",
    tr_title: "2 · Does it learn? Train on MNIST",
    tr_intro: "The assignment's Part 2: 784-[256]-10 with sigmoid, softmax cross-entropy, plain SGD. Every step uses the hand-written backward pass, in Rust, on all 60,000 training images; accuracy is measured on all 10,000 test images after each epoch.",
    tr_presets: "Presets:",
    preset_assignment: "Assignment (lr 0.01)",
    preset_fast: "Fast (lr 0.5)",
    tr_lr: "Learning rate",
    tr_epochs: "Epochs",
    tr_limit: "Training images (empty: all)",
    btn_start: "Start",
    btn_pause: "Pause",
    btn_resume: "Resume",
    btn_stop: "Stop",
    btn_reset: "Reset",
    retry: "Retry",
    download_csv: "Download CSV",
    download_chart: "Download chart (PNG)",
    col_epoch: "Epoch",
    col_avg_loss: "Average loss",
    col_test_acc: "Test accuracy",
    col_test_loss: "Test loss",
    col_seconds: "Seconds",
    col_sps: "Samples/s",
    chart_batch_loss: "batch loss",
    chart_smoothed: "smoothed loss",
    chart_epoch_loss: "epoch average loss",
    chart_accuracy: "test accuracy %",
    chart_x: "epoch",
    chart_loss_axis: "loss",
    state_idle: "Waiting for data.",
    state_loading: "Loading MNIST…",
    state_parsing: "Decompressing and checking {0}…",
    state_ready: "Ready: {0} training and {1} test images. Press Start.",
    state_training: "Epoch {0}/{1} · batch {2}/{3} · loss {4} · {5} samples/s · {6} s",
    state_evaluating: "Epoch {0}/{1} · testing {2}/{3}…",
    state_paused: "Paused in epoch {0}/{1}. Resume continues exactly where it stopped.",
    state_done: "Finished {0} {0|epoch|epochs}: test accuracy {1}% · {2} s of training.",
    state_stopped: "Stopped after {0} {0|epoch|epochs}. The model keeps its weights.",
    state_error: "Stopped: see the message below.",
    state_data_error: "Stopped: see the message above.",
    train_diverged: "Training diverged in epoch {0}, batch {1}: the loss became {2}. The learning rate is probably too large; lower it and press Reset.",
    train_no_data: "MNIST is not loaded yet.",
    train_busy: "Training is running; pause or stop it first.",
    data_http: "Could not download {0}: the server answered {1} for {2}. Check that the data folder was deployed with the page (run the set-up, then `trunk build --release`), or give its location with ?data=<URL>.",
    data_network: "Could not download {0}: {1}. Check your connection or the ?data=<URL> address, then press Retry.",
    data_web_page: "{0} came back as a web page (HTML), not the data file: the host answers a missing file with a page. Check that the data folder was deployed with the page (run the set-up, then `trunk build --release`), or give its location with ?data=<URL>.",
    data_cross_origin: "Could not download {0} from {1}: {2}. Check the ?data=<URL> address and your connection; a host other than this page's must also allow the page to read its files (the header Access-Control-Allow-Origin), or copy the files next to the page. Then press Retry.",
    data_bad_url: "The data address “{0}” is not an http or https web address. Correct ?data= in the link, or remove it to use the page's own copy of MNIST.",
    data_gzip_corrupt: "{0} is not a valid gzip file ({1}). The download may be damaged: press Retry, or re-run the set-up to recreate the data files.",
    data_too_large: "{0} unpacks to more than {1} MB, larger than any MNIST file. Replace it with the original.",
    data_truncated: "{0} is cut short: expected {1} bytes, got {2}. The download was probably interrupted: press Retry.",
    data_trailing: "{0} has extra bytes: expected {1}, got {2}. It is not an MNIST file: replace it with the original.",
    data_bad_magic: "{0} is not the right IDX file: its magic number is {1}, expected {2}. Check that the file names were not swapped.",
    data_bad_dims: "{0} has dimensions {1}; MNIST images are 28×28. Replace it with the original file.",
    data_bad_label: "{0}: label number {1} is {2}, but MNIST labels are 0–9. The file is corrupt: replace it.",
    data_count_mismatch: "{0} holds {1} images but {2} holds {3} labels. Use files from the same set.",
    data_missing: "Not all four MNIST files are loaded.",
    data_unknown_kind: "Unknown data file kind “{0}”.",
    dr_title: "3 · What did it learn? Draw a digit",
    dr_intro: "Draw a digit with the mouse, a finger or a pen. It is prepared exactly as MNIST was made (bounding box, longest side to 20 px by area averaging, centre of mass to the centre of 28×28) and classified by the current weights, even while training runs.",
    dr_clear: "Clear",
    dr_undo: "Undo",
    dr_preview: "What the model sees (28×28)",
    aria_draw_pad: "Drawing pad: draw one digit with the mouse, a finger or a pen (drawing needs a pointer; Clear and Undo follow)",
    aria_preview: "Your drawing as the model sees it, 28×28 pixels",
    aria_chart: "Chart of the training loss and test accuracy; the table below lists each epoch's figures",
    aria_epoch_progress: "Progress through the epoch",
    announce_epoch: "Epoch {0} done: test accuracy {1}%.",
    dr_empty: "Draw a digit.",
    dr_result: "Looks like {0} ({1} sure).",
    dr_too_small: "Too small to be a digit: draw it larger.",
    dr_quick_wait: "Available once the data has loaded and no run is going (see section 2).",
    dr_untrained: "The model is untrained: its guesses are random. Train it first.",
    dr_untrained_guess: "Guess {0} ({1}), but the model is untrained yet.",
    dr_quick_train: "Quick train (Fast preset, 1 epoch)",
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
    gc_code: "代码：src/mlp.rs（先前向、后反向，每行旁注笔记本中对应的 Python）、src/loss.rs、src/gradcheck.rs。输出误差将前向结果与独立的逐元素循环实现比较。",
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
    gc_progress: "检验中：已完成 {0} / {1} 个数的差分。",
    gc_cancel: "取消",
    gc_over_batch: "批次",
    gc_cancelled: "检验已取消。",
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
    too_many_parameters: "这些层构成的网络有 {0} 个权重和偏置；本页最多训练 {1} 个（受内存和每批耗时所限）。请减少层数或减小宽度。",
    empty_width: "列表中缺少一个宽度：请删去多余的逗号。",
    too_many_layers: "{0} 个隐藏层太多；本页最多支持 {1} 个。",
    batch_too_costly: "批大小 {0}、{1} 个参数：每步约 {2} 次乘加，页面将无法保持响应（最多 {3}）。请减小批大小或层宽。",
    ce_needs_two_classes: "交叉熵至少需要 2 个输出类别。",
    check_too_costly: "这次检验约需 {0} 秒；页面只运行约 {1} 秒以内的检验。每个参数和输入都要对整个批次做两次前向传播：请把它改小。",
    unknown_loss: "未知的损失函数 “{0}”。",
    tr_title: "2 · 它在学习吗？在 MNIST 上训练",
    tr_intro: "作业第 2 部分：784-[256]-10，sigmoid，softmax 交叉熵，普通 SGD。每一步都用 Rust 中手写的反向传播，训练全部 60,000 张图像；每个 epoch 后在全部 10,000 张测试图像上计算准确率。",
    tr_presets: "预设：",
    preset_assignment: "作业设置（lr 0.01）",
    preset_fast: "快速（lr 0.5）",
    tr_lr: "学习率",
    tr_epochs: "训练轮数（epoch）",
    tr_limit: "训练图像数（留空：全部）",
    btn_start: "开始",
    btn_pause: "暂停",
    btn_resume: "继续",
    btn_stop: "停止",
    btn_reset: "重置",
    retry: "重试",
    download_csv: "下载 CSV",
    download_chart: "下载图表（PNG）",
    col_epoch: "轮次",
    col_avg_loss: "平均损失",
    col_test_acc: "测试准确率",
    col_test_loss: "测试损失",
    col_seconds: "秒",
    col_sps: "样本/秒",
    chart_batch_loss: "批次损失",
    chart_smoothed: "平滑损失",
    chart_epoch_loss: "每轮平均损失",
    chart_accuracy: "测试准确率 %",
    chart_x: "轮次",
    chart_loss_axis: "损失",
    state_idle: "等待数据。",
    state_loading: "正在加载 MNIST…",
    state_parsing: "正在解压并检查 {0}…",
    state_ready: "就绪：{0} 张训练图像，{1} 张测试图像。请按“开始”。",
    state_training: "第 {0}/{1} 轮 · 批次 {2}/{3} · 损失 {4} · {5} 样本/秒 · {6} 秒",
    state_evaluating: "第 {0}/{1} 轮 · 测试 {2}/{3}…",
    state_paused: "已在第 {0}/{1} 轮暂停。“继续”将从停下处精确接续。",
    state_done: "已完成 {0} 轮：测试准确率 {1}% · 训练用时 {2} 秒。",
    state_stopped: "已在 {0} 轮后停止。模型保留当前权重。",
    state_error: "已停止：见下方信息。",
    state_data_error: "已停止：见上方信息。",
    train_diverged: "训练在第 {0} 轮第 {1} 批发散：损失变为 {2}。学习率可能过大；请调小后按“重置”。",
    train_no_data: "MNIST 尚未加载。",
    train_busy: "训练正在进行；请先暂停或停止。",
    data_http: "无法下载 {0}：服务器对 {2} 返回 {1}。请确认数据文件夹已随页面部署（运行安装脚本后再 `trunk build --release`），或用 ?data=<URL> 指定位置。",
    data_network: "无法下载 {0}：{1}。请检查网络或 ?data=<URL> 地址，然后按“重试”。",
    data_web_page: "{0} 返回的是网页（HTML），不是数据文件：主机对不存在的文件回了一个页面。请确认数据文件夹已随页面部署（运行安装脚本后再 `trunk build --release`），或用 ?data=<URL> 指定位置。",
    data_cross_origin: "无法从 {1} 下载 {0}：{2}。请检查 ?data=<URL> 地址和网络；与本页不同的主机还必须允许本页读取其文件（响应头 Access-Control-Allow-Origin），或把文件复制到本页旁边。然后按“重试”。",
    data_bad_url: "数据地址“{0}”不是 http 或 https 网址。请改正链接中的 ?data=，或删去它以使用本页自带的 MNIST。",
    data_gzip_corrupt: "{0} 不是有效的 gzip 文件（{1}）。下载可能已损坏：请按“重试”，或重新运行安装脚本生成数据文件。",
    data_too_large: "{0} 解压后超过 {1} MB，比任何 MNIST 文件都大。请换回原始文件。",
    data_truncated: "{0} 不完整：应有 {1} 字节，实际 {2}。下载可能中断：请按“重试”。",
    data_trailing: "{0} 多出字节：应有 {1}，实际 {2}。它不是 MNIST 文件：请换回原始文件。",
    data_bad_magic: "{0} 不是正确的 IDX 文件：魔数为 {1}，应为 {2}。请检查文件名是否对调。",
    data_bad_dims: "{0} 的维度为 {1}；MNIST 图像是 28×28。请换回原始文件。",
    data_bad_label: "{0}：第 {1} 个标签为 {2}，但 MNIST 标签只能是 0–9。文件已损坏：请替换。",
    data_count_mismatch: "{0} 有 {1} 张图像，而 {2} 有 {3} 个标签。请使用同一套文件。",
    data_missing: "四个 MNIST 文件尚未全部加载。",
    data_unknown_kind: "未知的数据文件类型“{0}”。",
    dr_title: "3 · 它学到了什么？手写一个数字",
    dr_intro: "用鼠标、手指或笔写一个数字。它会按照 MNIST 的制作方式处理（外接框、长边按面积平均缩放到 20 像素、质心移到 28×28 中心），并用当前权重分类——训练进行中也可以。",
    dr_clear: "清除",
    dr_undo: "撤销",
    dr_preview: "模型看到的图像（28×28）",
    aria_draw_pad: "画板：用鼠标、手指或笔写一个数字（书写需要指针设备；其后是“清除”和“撤销”）",
    aria_preview: "模型看到的你的图像，28×28 像素",
    aria_chart: "训练损失与测试准确率图表；下表列出每轮的数值",
    aria_epoch_progress: "本轮进度",
    announce_epoch: "第 {0} 轮完成：测试准确率 {1}%。",
    dr_empty: "请写一个数字。",
    dr_result: "看起来是 {0}（置信度 {1}）。",
    dr_too_small: "太小了，不像一个数字：请写大一些。",
    dr_quick_wait: "数据加载完成且没有正在进行的训练时可用（见第 2 部分）。",
    dr_untrained: "模型尚未训练：猜测是随机的。请先训练。",
    dr_untrained_guess: "猜测为 {0}（{1}），但模型尚未训练。",
    dr_quick_train: "快速训练（快速预设，1 轮）",
  },
};

const STORAGE_KEY = "backprop-lab-lang";
let current = pickLanguage();

function pickLanguage() {
  // Any case and region: zh, ZH, zh-CN, zh-Hant, en-GB.
  const fromUrl = new URLSearchParams(location.search).get("lang")?.toLowerCase().split(/[-_]/)[0];
  if (fromUrl in STRINGS) return fromUrl;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved in STRINGS) return saved;
  } catch (_) { /* storage may be blocked */ }
  const preferred = navigator.languages || [navigator.language || "en"];
  return preferred.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

/**
 * The string for `key` in the current language, with {0}, {1} … filled from `args`
 * (whole numbers of 4 to 15 digits grouped, as `formatCount` writes them);
 * {0|epoch|epochs} is the first word when args[0] is 1, else the second.
 */
export function t(key, args = []) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  const fill = (value) => {
    const text = String(value);
    return /^\d{4,15}$/.test(text) ? formatCount(Number(text)) : text;
  };
  return template
    .replace(/\{(\d+)\|([^|}]*)\|([^}]*)\}/g, (m, i, one, many) => (Number(args[i]) === 1 ? one : many))
    .replace(/\{(\d+)\}/g, (m, i) => (args[i] !== undefined ? fill(args[i]) : m));
}

/** The locale the page writes figures in: its own language's, not the browser's. */
export function locale() {
  return current === "zh" ? "zh-CN" : "en-US";
}

/** A count rounded and grouped in the page's language: 60,000. */
export function formatCount(n) {
  return Math.round(n).toLocaleString(locale());
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
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.lang = current === "zh" ? "en" : "zh-CN"; // it names the other language, in that language
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
