//! A safetensors file as PyTorch's `safetensors.torch.save_file` writes it, read with the
//! `safetensors` crate: 8 bytes of header length (little-endian u64), a JSON header
//! `{name: {dtype, shape, data_offsets}, "__metadata__": {..}}`, then the data,
//! little-endian and row-major. Every refusal is a [`Problem`] naming what is wrong.

use crate::problem::Problem;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use std::collections::BTreeMap;

/// The largest file read: a `784-[4096,4096]-10` model in f64 is about 160 MB.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// One tensor's numbers, widened: floats of any width to f64, integers to i64.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Float(Vec<f64>),
    Int(Vec<i64>),
}

/// One tensor as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    /// The file's dtype name: `F32`, `F64`, `F16`, `BF16`, `I64`, ...
    pub dtype: String,
    /// Row-major (C order).
    pub values: Values,
}

/// Every tensor of a file by name, and its `__metadata__`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

/// A file's problem with the format itself, before anything reads its tensors. A file
/// of another kind is named as that kind (only once safetensors has refused it: a
/// header's length can begin with a pickle's bytes).
fn format_problem(error: SafeTensorError, bytes: &[u8]) -> Problem {
    if let Some(problem) = known_other_format(bytes) {
        return problem;
    }
    let declared = bytes
        .get(..8)
        .map_or(0, |n| u64::from_le_bytes(n.try_into().unwrap_or_default()));
    match error {
        SafeTensorError::HeaderTooSmall => Problem::new("st_not_safetensors", &[&bytes.len()]),
        // A header said to run past the end is the likelier news (any other file's first bytes).
        SafeTensorError::HeaderTooLarge if declared > bytes.len() as u64 => {
            Problem::new("st_header_past_end", &[&declared, &bytes.len()])
        }
        SafeTensorError::HeaderTooLarge => Problem::new("st_header_too_large", &[&declared]),
        SafeTensorError::InvalidHeaderLength => Problem::new("st_header_past_end", &[&declared, &bytes.len()]),
        SafeTensorError::InvalidHeader(_) => Problem::new("st_header_not_json", &[&"not UTF-8"]),
        SafeTensorError::InvalidHeaderDeserialization(e) => {
            let detail = e.to_string();
            // serde names a dtype it does not know as an unknown variant.
            match detail.split('`').nth(1).filter(|_| detail.contains("unknown variant")) {
                Some(dtype) => Problem::new("st_dtype_unknown", &[&dtype]),
                None => Problem::new("st_header_not_json", &[&detail]),
            }
        }
        SafeTensorError::InvalidOffset(name) => Problem::new("st_offsets", &[&name]),
        SafeTensorError::TensorInvalidInfo | SafeTensorError::MisalignedSlice | SafeTensorError::ValidationOverflow => {
            Problem::new("st_offsets", &[&"?"])
        }
        SafeTensorError::MetadataIncompleteBuffer => Problem::new("st_data_not_covered", &[]),
        other => Problem::new("st_header_not_json", &[&other]),
    }
}

/// Files students pick by mistake, known by their first bytes.
fn known_other_format(bytes: &[u8]) -> Option<Problem> {
    const ZIP: &[u8] = b"PK\x03\x04"; // torch.save's default since PyTorch 1.6
    const PICKLE: [&[u8]; 3] = [b"\x80\x02", b"\x80\x03", b"\x80\x04"]; // older torch.save
    const IMAGES: [&[u8]; 3] = [b"\x89PNG", b"\xff\xd8\xff", b"GIF8"];
    if bytes.starts_with(ZIP) || PICKLE.iter().any(|m| bytes.starts_with(m)) {
        Some(Problem::new("st_torch_save", &[]))
    } else if IMAGES.iter().any(|m| bytes.starts_with(m)) {
        Some(Problem::new("st_image", &[]))
    } else {
        None
    }
}

/// Whether a file of `bytes` bytes may be read, before reading it.
pub fn check_file_size(bytes: f64) -> Result<(), Problem> {
    match bytes > MAX_FILE_BYTES as f64 {
        true => {
            let mb = (bytes / (1024.0 * 1024.0)).ceil();
            Err(Problem::new(
                "st_file_too_large",
                &[&mb, &(MAX_FILE_BYTES / 1024 / 1024)],
            ))
        }
        false => Ok(()),
    }
}

/// Read a whole file: every tensor widened, with its shape and dtype.
pub fn read(bytes: &[u8]) -> Result<File, Problem> {
    if bytes.len() > MAX_FILE_BYTES {
        let mb = bytes.len().div_ceil(1024 * 1024);
        return Err(Problem::new(
            "st_file_too_large",
            &[&mb, &(MAX_FILE_BYTES / 1024 / 1024)],
        ));
    }
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format_problem(e, bytes))?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_problem(e, bytes))?;
    let metadata = header.metadata().clone().unwrap_or_default().into_iter().collect();
    let mut tensors = BTreeMap::new();
    for (name, view) in file.iter() {
        let data = view.data();
        let floats = |width: usize, read: fn(&[u8]) -> f64| Values::Float(data.chunks_exact(width).map(read).collect());
        let ints = |width: usize, read: fn(&[u8]) -> i64| Values::Int(data.chunks_exact(width).map(read).collect());
        let values = match view.dtype() {
            Dtype::F64 => floats(8, |b| f64::from_le_bytes(b.try_into().unwrap_or_default())),
            Dtype::F32 => floats(4, |b| f32::from_le_bytes(b.try_into().unwrap_or_default()) as f64),
            Dtype::F16 => floats(2, |b| {
                half::f16::from_le_bytes(b.try_into().unwrap_or_default()).to_f64()
            }),
            Dtype::BF16 => floats(2, |b| {
                half::bf16::from_le_bytes(b.try_into().unwrap_or_default()).to_f64()
            }),
            Dtype::I64 => ints(8, |b| i64::from_le_bytes(b.try_into().unwrap_or_default())),
            Dtype::I32 => ints(4, |b| i32::from_le_bytes(b.try_into().unwrap_or_default()) as i64),
            Dtype::I16 => ints(2, |b| i16::from_le_bytes(b.try_into().unwrap_or_default()) as i64),
            Dtype::I8 => ints(1, |b| b[0] as i8 as i64),
            Dtype::U8 => ints(1, |b| b[0] as i64),
            other => return Err(Problem::new("st_dtype_unsupported", &[&name, &format!("{other:?}")])),
        };
        let dtype = format!("{:?}", view.dtype());
        tensors.insert(
            name.to_string(),
            Tensor {
                shape: view.shape().to_vec(),
                dtype,
                values,
            },
        );
    }
    Ok(File { tensors, metadata })
}

/// Write f32 tensors (name, shape, row-major values) and `metadata` as one file.
pub fn write_f32<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a [usize], &'a [f32])>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Problem> {
    let owned: Vec<(&str, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| {
            (
                name,
                shape.to_vec(),
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let mut views = Vec::with_capacity(owned.len());
    for (name, shape, bytes) in &owned {
        let view = safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| Problem::new("st_write_failed", &[&e]))?;
        views.push((*name, view));
    }
    let metadata: hashbrown::HashMap<String, String> = metadata.clone().into_iter().collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| Problem::new("st_write_failed", &[&e]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_tensor(dtype: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let header = format!(
            r#"{{"t":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[0,{}]}}}}"#,
            data.len()
        );
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(header.as_bytes());
        file.extend(data);
        file
    }

    #[test]
    fn every_float_width_widens_and_integers_stay_whole() {
        let f16 = half::f16::from_f32(1.5).to_le_bytes();
        let bf16 = half::bf16::from_f32(-2.0).to_le_bytes();
        let cases: [(&str, Vec<u8>, Values); 5] = [
            ("F32", 0.25f32.to_le_bytes().to_vec(), Values::Float(vec![0.25])),
            ("F64", 0.1f64.to_le_bytes().to_vec(), Values::Float(vec![0.1])),
            ("F16", f16.to_vec(), Values::Float(vec![1.5])),
            ("BF16", bf16.to_vec(), Values::Float(vec![-2.0])),
            ("I64", 7i64.to_le_bytes().to_vec(), Values::Int(vec![7])),
        ];
        for (dtype, data, expected) in cases {
            let file = read(&one_tensor(dtype, "[1]", &data)).unwrap();
            assert_eq!(file.tensors["t"].values, expected, "{dtype}");
            assert_eq!(file.tensors["t"].dtype, dtype);
        }
    }

    #[test]
    fn a_round_trip_keeps_names_shapes_values_and_metadata() {
        let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let a = [1.0f32, -2.0, 3.5, 4.0, 5.0, 6.0];
        let bytes = write_f32(
            [("a", &[2usize, 3][..], &a[..]), ("b", &[1][..], &[9.0][..])],
            &metadata,
        )
        .unwrap();
        let file = read(&bytes).unwrap();
        assert_eq!(file.metadata, metadata);
        assert_eq!(file.tensors["a"].shape, [2, 3]);
        assert_eq!(
            file.tensors["a"].values,
            Values::Float(a.iter().map(|&v| v as f64).collect())
        );
        assert_eq!(file.tensors["b"].values, Values::Float(vec![9.0]));
    }

    #[test]
    fn each_broken_file_names_its_problem() {
        let code = |bytes: &[u8]| read(bytes).unwrap_err().code;
        let good = one_tensor("F32", "[2]", &[0; 8]);
        assert_eq!(code(b"PK\x03"), "st_not_safetensors", "shorter than the length field");
        let mut past_end = good.clone();
        past_end[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
        assert_eq!(code(&past_end), "st_header_past_end");
        let mut huge = vec![b' '; 100_000_100];
        huge[..8].copy_from_slice(&100_000_001u64.to_le_bytes());
        assert_eq!(code(&huge), "st_header_too_large", "over 100 MB, within the file");
        assert_eq!(code(b"<!doctype html>"), "st_header_past_end", "any other file");
        assert_eq!(code(b"PK\x03\x04archive/data.pkl"), "st_torch_save", "torch.save's zip");
        assert_eq!(code(b"\x80\x02}q\x00"), "st_torch_save", "an old pickle");
        assert_eq!(code(b"\x89PNG\r\n\x1a\n...."), "st_image");
        let header = b"not json at all!";
        let mut not_json = (header.len() as u64).to_le_bytes().to_vec();
        not_json.extend(header);
        assert_eq!(code(&not_json), "st_header_not_json");
        assert_eq!(
            code(&good[..good.len() - 1]),
            "st_data_not_covered",
            "the data is cut short"
        );
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(code(&longer), "st_data_not_covered");
        let overlap = br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut overlapping = (overlap.len() as u64).to_le_bytes().to_vec();
        overlapping.extend(overlap);
        overlapping.extend([0; 4]);
        assert_eq!(code(&overlapping), "st_offsets");
        assert_eq!(code(&one_tensor("Q7", "[2]", &[0; 8])), "st_dtype_unknown");
        let unknown = read(&one_tensor("Q7", "[2]", &[0; 8])).unwrap_err();
        assert_eq!(unknown.args, ["Q7"]);
        assert_eq!(code(&one_tensor("BOOL", "[2]", &[0; 2])), "st_dtype_unsupported");
        assert_eq!(code(&vec![0; MAX_FILE_BYTES + 1]), "st_file_too_large");
    }
}
