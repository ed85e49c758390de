//! A notebook's gradient bundle: any bytes give a report or a named refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backprop_lab::check::bundle::check(data);
});
