//! The page's form fields (and the URL values that fill them): NUL-separated strings, by
//! the schema's field names, into both forms and the step panel's index.
#![no_main]

use backprop_lab::form::{check_case, test_index, train_config};
use backprop_lab::schema::{Values, CHECK_FIELDS, TRAIN_FIELDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fields: Vec<String> = text.split('\0').map(str::to_string).collect();
    let by_name = |names: &[&'static str]| -> Values { names.iter().copied().zip(fields.iter().cloned()).collect() };
    let _ = train_config(&by_name(&TRAIN_FIELDS));
    let _ = check_case(&by_name(&CHECK_FIELDS));
    let _ = test_index(fields.get(2).map_or("", String::as_str), 10_000);
});
