//! Parsers of outside bytes where usize is 32 bits: `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use backprop_lab::files::mnist::parse_images;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// 4,294,967,295 images of 28x28 is more bytes than a 32-bit usize counts: refused, not
/// an overflow (which panics in the dev build `trunk serve` runs).
#[wasm_bindgen_test]
fn an_image_count_past_usize_is_refused() {
    let mut header = vec![0, 0, 8, 3];
    for size in [u32::MAX, 28, 28] {
        header.extend(size.to_be_bytes());
    }
    header.extend([0; 100]);
    let refused = parse_images("huge.idx", &header).expect_err("refused");
    assert_eq!(refused.code, "data_bad_dims");
}
