//! A weights file as the page reads it: any bytes give a model or a named refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backprop_lab::files::weights::import(data);
});
