//! MNIST's IDX files, raw or gzipped: any bytes give a data set or a named refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backprop_lab::files::mnist::parse_images("fuzz", data);
    let _ = backprop_lab::files::mnist::parse_labels("fuzz", data);
});
