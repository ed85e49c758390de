//! The page's form fields (and the URL values that fill them): thirteen NUL-separated
//! strings into both forms and the step panel's index.
#![no_main]

use backprop_lab::form::{check_case, test_index, train_config, CheckForm, TrainForm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0').map(str::to_string).collect::<Vec<_>>();
    fields.resize(13, String::new());
    let train = TrainForm {
        hidden: &fields[0],
        lr: &fields[1],
        batch: &fields[2],
        epochs: &fields[3],
        seed: &fields[4],
        train_limit: &fields[5],
        bug: &fields[6],
        act: &fields[7],
        opt: &fields[8],
        momentum: &fields[9],
        wd: &fields[10],
        beta1: &fields[11],
        beta2: &fields[12],
    };
    let check = CheckForm {
        input_dim: &fields[0],
        hidden_dims: &fields[1],
        output_dim: &fields[2],
        loss: &fields[3],
        sample_kind: &fields[4],
        batch: &fields[5],
        seed: &fields[6],
        act: &fields[7],
    };
    let _ = train_config(&train);
    let _ = check_case(&check);
    let _ = test_index(&fields[2], 10_000);
});
