#![cfg(not(target_arch = "wasm32"))]
// A counting allocator is the one way to see what a parse allocates; it needs `unsafe`.
#![allow(unsafe_code)]
//! Every parser of outside bytes, fed thousands of seeded mutations of valid inputs
//! (cut short, bytes flipped, bytes inserted, header numbers set to edge values): each
//! returns a value or a typed refusal, never panics, and never allocates much more than
//! its input justifies. `make fuzz` runs the same mutations many more times.

use backprop_lab::check::bundle;
use backprop_lab::files::mnist::{parse_images, parse_labels};
use backprop_lab::files::weights;
use backprop_lab::form::{check_case, test_index, train_config};
use backprop_lab::schema::{Values, CHECK_FIELDS, TRAIN_FIELDS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// Counted per thread: the test harness allocates on its own threads (a finished test's
// captured output) while another test measures.
struct Counting;
thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + layout.size());
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(layout.size())));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `parse` and return the most it had allocated at once beyond what was live before,
/// on this thread.
fn peak_of(parse: impl FnOnce()) -> usize {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    parse();
    PEAK.with(Cell::get).saturating_sub(before)
}

/// How many mutants each target gets; `FUZZ_ITERATIONS` raises it (`make fuzz`).
fn iterations() -> usize {
    std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500)
}

/// One random change of `bytes`; `fields` are the offsets of header numbers worth hitting.
fn mutate(rng: &mut StdRng, bytes: &[u8], fields: &[(usize, usize)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        match rng.random_range(0..6) {
            0 if !out.is_empty() => out.truncate(rng.random_range(0..out.len())),
            1 if !out.is_empty() => {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..out.len());
                    out[at] ^= 1 << rng.random_range(0..8);
                }
            }
            2 => {
                let at = rng.random_range(0..=out.len());
                let junk: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
                out.splice(at..at, junk);
            }
            3 if !fields.is_empty() => {
                let (at, width) = fields[rng.random_range(0..fields.len())];
                let edge = [
                    0u64,
                    1,
                    2,
                    255,
                    u32::MAX as u64,
                    u64::MAX,
                    out.len() as u64,
                    out.len() as u64 + 1,
                ];
                let value = edge[rng.random_range(0..edge.len())].to_le_bytes();
                if at + width <= out.len() {
                    let bytes: Vec<u8> = if width == 4 {
                        value[..4].iter().rev().copied().collect()
                    } else {
                        value.to_vec()
                    };
                    out[at..at + width].copy_from_slice(&bytes[..width]);
                }
            }
            4 if out.len() > 16 => {
                let from = rng.random_range(0..out.len() - 8);
                let chunk = out[from..from + 8].to_vec();
                let at = rng.random_range(0..out.len());
                out.splice(at..at, chunk);
            }
            _ => out.push(rng.random()),
        }
    }
    out
}

/// Mutate `valid` many times; every parse must return, within `budget(len)` bytes.
fn fuzz(
    name: &str,
    seed: u64,
    valid: &[Vec<u8>],
    fields: &[(usize, usize)],
    budget: impl Fn(usize) -> usize,
    parse: impl Fn(&[u8]) -> bool,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut accepted, mut refused) = (0, 0);
    for input in valid {
        assert!(parse(input), "{name}: the valid input must parse");
    }
    for i in 0..iterations() {
        let base = &valid[i % valid.len()];
        let input = mutate(&mut rng, base, fields);
        let mut ok = false;
        let peak = peak_of(|| ok = parse(&input));
        assert!(
            peak <= budget(input.len()),
            "{name} mutant {i}: {peak} bytes for a {}-byte input",
            input.len()
        );
        if ok {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    println!("{name}: {accepted} mutants accepted, {refused} refused");
    assert!(refused > 0, "{name}: the mutations must reach the refusals");
}

fn idx_images(count: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    for size in [count, 28, 28] {
        bytes.extend(size.to_be_bytes());
    }
    bytes.extend((0..count as usize * 784).map(|p| (p * 7 % 256) as u8));
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// What a gunzip may take: up to the 64 MiB a real MNIST file never reaches.
const DECOMPRESSION: usize = 65 << 20;

#[test]
fn idx_files_raw_and_gzipped() {
    let images = idx_images(3);
    let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 5];
    labels.extend([0, 3, 9, 1, 7]);
    let header = [(0, 4), (4, 4), (8, 4), (12, 4)];
    // A gzip decoder's window (32 KiB) is the one cost beyond the input's size.
    let raw = |len: usize| 2 * len + (64 << 10);
    fuzz("images (raw)", 1, std::slice::from_ref(&images), &header, raw, |b| {
        parse_images("f", b).is_ok()
    });
    fuzz("labels (raw)", 2, std::slice::from_ref(&labels), &header, raw, |b| {
        parse_labels("f", b).is_ok()
    });
    let gz = |len: usize| raw(len) + DECOMPRESSION;
    fuzz("images (gzip)", 3, &[gzip(&images)], &[], gz, |b| {
        parse_images("f", b).is_ok()
    });
    fuzz("labels (gzip)", 4, &[gzip(&labels)], &[], gz, |b| {
        parse_labels("f", b).is_ok()
    });
}

/// A small model's weights file, and where its header length lives.
fn weights_file(hidden: &[usize]) -> Vec<u8> {
    let mlp = backprop_lab::model::mlp::Mlp::<f32>::new(784, hidden, 10, 1);
    weights::export(&mlp, &Default::default()).expect("export")
}

/// Widening f16 or u8 to f64/i64 takes up to 8 bytes a byte, plus the model built.
fn tensors_budget(len: usize) -> usize {
    24 * len + (1 << 20)
}

#[test]
fn safetensors_weights_and_bundles() {
    let valid = [weights_file(&[]), weights_file(&[3])];
    fuzz("weights", 5, &valid, &[(0, 8)], tensors_budget, |b| {
        weights::import(b).is_ok()
    });
    // A Part 1 bundle: the weights of a 4-[3]-2 net with input, target and gradients.
    let mlp = backprop_lab::model::mlp::Mlp::<f64>::new(4, &[3], 2, 1);
    let mut header = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut add = |name: &str, dtype: &str, shape: &[usize], bytes: Vec<u8>| {
        let start = data.len();
        data.extend(bytes);
        header.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    };
    let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (info, values) in mlp.state_dict() {
        add(&info.name, "F64", &info.shape, f64s(&values));
        add(&format!("grad.{}", info.name), "F64", &info.shape, f64s(&values));
    }
    add("input", "F64", &[4], f64s(&[0.1, -0.2, 0.3, 0.4]));
    add("target", "F64", &[2], f64s(&[1.0, 0.0]));
    let header = format!(r#"{{{},"__metadata__":{{"loss":"mse"}}}}"#, header.join(","));
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header.as_bytes());
    file.extend(data);
    fuzz("bundle", 6, &[file], &[(0, 8)], tensors_budget, |b| {
        bundle::check(b).is_ok()
    });
}

/// Random, hostile and huge strings into every form field.
#[test]
fn form_fields_and_url_values() {
    let mut rng = StdRng::seed_from_u64(7);
    let hostile = [
        "",
        " ",
        "0",
        "-0",
        "1e309",
        "NaN",
        "inf",
        "-inf",
        "0x10",
        "１６，４",
        "[16, 4]",
        "[]",
        "[",
        "]",
        "16,,4",
        "<img src=x onerror=alert(1)>",
        "\u{202e}61",
        "9".repeat(400).as_str().to_owned().leak(),
        "1,".repeat(5000).leak(),
        "4096,4096,4096",
        "0.000000000000000000001",
        "1e-400",
        "١٢",
        "💥",
        "\0",
        "16\n4",
    ];
    let mut random = || -> String {
        let length = rng.random_range(0..40);
        (0..length)
            .map(|_| match rng.random_range(0..4) {
                0 => char::from(rng.random_range(b'0'..=b'9')),
                1 => [',', '.', '-', '+', 'e', ' ', '[', ']'][rng.random_range(0..8)],
                2 => char::from_u32(rng.random_range(0xFF10..0xFF20)).unwrap_or('?'),
                _ => char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'),
            })
            .collect()
    };
    for i in 0..iterations() {
        let pick = |k: usize| -> String {
            if (i + k).is_multiple_of(3) {
                hostile[(i * 7 + k) % hostile.len()].to_string()
            } else {
                String::new()
            }
        };
        let fields: Vec<String> = (0..TRAIN_FIELDS.len())
            .map(|k| if pick(k).is_empty() { random() } else { pick(k) })
            .collect();
        let by_name =
            |names: &[&'static str]| -> Values { names.iter().copied().zip(fields.iter().cloned()).collect() };
        let (train, check) = (by_name(&TRAIN_FIELDS), by_name(&CHECK_FIELDS));
        let peak = peak_of(|| {
            for problem in [
                train_config(&train).err(),
                check_case(&check).err(),
                test_index(&fields[2], 10_000).err(),
            ]
            .into_iter()
            .flatten()
            {
                // Whatever is echoed back is cut short: a message never carries a megabyte.
                assert!(
                    problem.problem.args.iter().all(|a| a.chars().count() <= 64),
                    "{problem:?}"
                );
            }
        });
        let longest = fields.iter().map(String::len).max().unwrap_or(0);
        assert!(peak <= 64 * longest + (1 << 16), "{peak} bytes for fields of {longest}");
    }
}
