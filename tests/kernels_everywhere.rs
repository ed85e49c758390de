//! The kernels against their plain loops, natively (`cargo test`) and in headless
//! Chromium (`wasm-pack test`), where f32 products of every side >= 16 take the simd128
//! micro-kernel: the only place that kernel runs.

use backprop_lab::kernels::dense::{g_w_f32, gt_x_f32, naive_g_w, naive_gt_x, naive_x_wt, x_wt_f32};
use backprop_lab::kernels::gemm::{gemm, Operands};
use backprop_lab::model::loss::softmax_cross_entropy;
use backprop_lab::model::mlp::{Cache, Grads, Input, Mlp, Scope};
use backprop_lab::model::optim::sgd_step;
use backprop_lab::train::{train_step, Workspace};
use nalgebra::DMatrix;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

fn filled(rows: usize, cols: usize, salt: usize) -> DMatrix<f32> {
    DMatrix::from_fn(rows, cols, |r, c| (((r * 7 + c * 13 + salt) % 23) as f32 - 11.0) / 11.0)
}

fn max_difference(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn dense_f32_products_match_the_plain_loops() {
    // (B, in, out): the first three take the kernel in the browser, the last two do not.
    for (b, inp, out) in [(64, 784, 256), (17, 33, 19), (64, 256, 16), (64, 256, 10), (3, 5, 4)] {
        let (x, w, g) = (filled(b, inp, 1), filled(out, inp, 2), filled(b, out, 3));
        let (mut fast, mut plain) = (DMatrix::zeros(b, out), DMatrix::zeros(b, out));
        x_wt_f32(&x, &w, &mut fast);
        naive_x_wt(&x, &w, &mut plain);
        let bar = 1e-5 * inp as f32;
        assert!(max_difference(&fast, &plain) < bar, "x W^T {b}x{inp}x{out}");
        let (mut fast, mut plain) = (DMatrix::zeros(out, inp), DMatrix::zeros(out, inp));
        gt_x_f32(&g, &x, &mut fast);
        naive_gt_x(&g, &x, &mut plain);
        assert!(max_difference(&fast, &plain) < 1e-5 * b as f32, "g^T x {b}x{inp}x{out}");
        let (mut fast, mut plain) = (DMatrix::zeros(b, inp), DMatrix::zeros(b, inp));
        g_w_f32(&g, &w, &mut fast);
        naive_g_w(&g, &w, &mut plain);
        assert!(max_difference(&fast, &plain) < 1e-5 * out as f32, "g W {b}x{inp}x{out}");
    }
}

/// The bits of a product through the packed kernel, folded into one number.
fn gemm_digest() -> u64 {
    let (m, n, k) = (37, 21, 53);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0).collect();
    let ops = Operands {
        a: &a,
        rsa: 1,
        csa: m,
        b: &b,
        rsb: 1,
        csb: k,
    };
    let mut c = vec![0.0f32; m * n];
    gemm(m, n, k, ops, &mut c, (1, m));
    c.iter()
        .fold(0u64, |h, v| h.wrapping_mul(1_000_003).wrapping_add(v.to_bits() as u64))
}

#[test]
fn the_simd_kernel_gives_the_portable_kernels_bits() {
    // The same product natively (portable tile) and in the browser (simd128 tile): the
    // same operations in the same order, so the same bits.
    assert_eq!(gemm_digest(), 5_751_112_388_097_424_497);
}

#[test]
fn training_steps_through_the_kernel_follow_the_f64_steps() {
    // 40-[32, 24]-10 on a sparse batch of 64: the hidden-to-hidden products are >= 16 on
    // every side, so in the browser they run in the kernel. The f64 model takes nalgebra's
    // products and the plain `backward` then `sgd_step`.
    let x = DMatrix::from_fn(64, 40, |r, c| {
        if (r + 3 * c) % 5 == 0 {
            ((r + c) % 9) as f32 / 9.0
        } else {
            0.0
        }
    });
    let labels: Vec<usize> = (0..64).map(|r| r % 10).collect();
    let mut mlp = Mlp::<f32>::new(40, &[32, 24], 10, 3);
    let mut reference = Mlp::<f64>::new(40, &[32, 24], 10, 3);
    let mut work = Workspace {
        cache: Cache::of(Input::new(x.clone())),
        ..Workspace::default()
    };
    for step in 0..5 {
        let loss = train_step(&mut mlp, &mut work, &labels, 1.0).expect("finite");
        let cache = reference.forward_batch(x.map(f64::from));
        let mut grad_output = DMatrix::zeros(64, 10);
        let expected = softmax_cross_entropy(&cache.output, &labels, &mut grad_output);
        let mut grads = Grads::default();
        reference.backward(&cache, &grad_output, &mut grads, Scope::Full);
        sgd_step(&mut reference, &grads, 1.0);
        assert!(
            (loss as f64 - expected).abs() < 1e-5,
            "step {step}: {loss} vs {expected}"
        );
    }
    let moved = (&mlp.layers[1].weight.map(f64::from) - &reference.layers[1].weight).amax();
    assert!(moved < 1e-5, "the kernel's layer ends where the f64 one does: {moved}");
}
