//! A drawn digit, prepared the way MNIST itself was made:
//!
//! 1. grey level of the ink (dark strokes on a light or transparent canvas);
//! 2. the bounding box of the ink;
//! 3. the longer side scaled to 20 px, aspect ratio kept, by area averaging
//!    (every source pixel contributes by the area it covers, so thin strokes survive);
//! 4. pasted into 28x28 so its centre of mass sits at the centre;
//! 5. scaled to [0, 1] like the training images.

use crate::files::mnist::{IMAGE_PIXELS, IMAGE_SIDE};

/// MNIST fits each digit into a 20x20 box inside the 28x28 image.
const BOX: usize = 20;
/// Ink below this grey level (of 255) does not count toward the bounding box.
const INK_THRESHOLD: f32 = 32.0;
/// Less ink than this many fully dark pixels is "no digit", not a guess.
const MIN_INK_PIXELS: f32 = 0.0005;

/// Ink per pixel in 0..=255 from RGBA (row-major, 4 bytes a pixel): darkness composited
/// over white, so a transparent or white background is 0 and opaque black is 255.
fn ink(rgba: &[u8]) -> Vec<f32> {
    rgba.chunks_exact(4)
        .map(|p| {
            let luminance = 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
            (255.0 - luminance) * p[3] as f32 / 255.0
        })
        .collect()
}

/// Area-average resampling of `src` (`w x h`) to (`new_w x new_h`).
fn resample(src: &[f32], w: usize, h: usize, new_w: usize, new_h: usize) -> Vec<f32> {
    // Weights of source cells [0, n) that output cell j of m covers, as (index, fraction).
    let spans = |n: usize, m: usize| -> Vec<Vec<(usize, f32)>> {
        let scale = n as f64 / m as f64;
        (0..m)
            .map(|j| {
                let (lo, hi) = (j as f64 * scale, (j + 1) as f64 * scale);
                (lo.floor() as usize..(hi.ceil() as usize).min(n))
                    .map(|i| {
                        let overlap = hi.min(i as f64 + 1.0) - lo.max(i as f64);
                        (i, (overlap / scale) as f32)
                    })
                    .collect()
            })
            .collect()
    };
    let (xs, ys) = (spans(w, new_w), spans(h, new_h));
    let mut out = vec![0.0; new_w * new_h];
    for (oy, yspan) in ys.iter().enumerate() {
        for (ox, xspan) in xs.iter().enumerate() {
            out[oy * new_w + ox] = yspan
                .iter()
                .map(|&(sy, wy)| xspan.iter().map(|&(sx, wx)| src[sy * w + sx] * wx).sum::<f32>() * wy)
                .sum();
        }
    }
    out
}

/// The box (x0, y0, x1, y1), ends excluded, around every pixel inked at least
/// `INK_THRESHOLD`; `None` when there is none.
fn ink_box(grey: &[f32], width: usize, height: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
    for (i, &g) in grey.iter().enumerate() {
        if g >= INK_THRESHOLD {
            let (x, y) = (i % width, i / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
        }
    }
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
}

/// What a canvas holds, for the page to show.
#[derive(Clone, Debug, PartialEq)]
pub enum Drawing {
    /// (Almost) no ink.
    Empty,
    /// Ink whose longer side is under a tenth of the canvas's shorter side: prepared
    /// anyway, a dot would be blown up into a blob and read as some digit with confidence.
    TooSmall,
    /// The 28x28 input, as [`preprocess`] makes it.
    Digit(Vec<f32>),
}

/// The canvas as the page shows it: [`preprocess`], and whether the ink is too small.
pub fn prepare(rgba: &[u8], width: usize, height: usize) -> Drawing {
    match prepare_with_size(rgba, width, height) {
        None => Drawing::Empty,
        Some((_, side)) if side * 10 < width.min(height) => Drawing::TooSmall,
        Some((input, _)) => Drawing::Digit(input),
    }
}

/// The 28x28 input (row-major, values in [0, 1]) for a canvas of `width` x `height`
/// RGBA pixels, or `None` when there is (almost) no ink.
pub fn preprocess(rgba: &[u8], width: usize, height: usize) -> Option<Vec<f32>> {
    prepare_with_size(rgba, width, height).map(|(input, _)| input)
}

/// [`preprocess`], and the longer side of the ink's bounding box on the canvas.
fn prepare_with_size(rgba: &[u8], width: usize, height: usize) -> Option<(Vec<f32>, usize)> {
    if rgba.len() != width * height * 4 {
        return None; // a canvas of no pixels has no ink, and is refused below
    }
    let grey = ink(rgba);
    let total: f32 = grey.iter().sum();
    if total < MIN_INK_PIXELS * 255.0 * (width * height) as f32 {
        return None;
    }

    // 2. Bounding box of the ink.
    let (x0, y0, x1, y1) = ink_box(&grey, width, height)?;
    let (bw, bh) = (x1 - x0, y1 - y0);
    let cropped: Vec<f32> = (y0..y1)
        .flat_map(|y| grey[y * width + x0..y * width + x1].iter().copied())
        .collect();

    // 3. Longer side to 20 px, aspect ratio kept.
    let scale = BOX as f64 / bw.max(bh) as f64;
    let new_w = ((bw as f64 * scale).round() as usize).clamp(1, BOX);
    let new_h = ((bh as f64 * scale).round() as usize).clamp(1, BOX);
    let small = resample(&cropped, bw, bh, new_w, new_h);

    // 4. Centre of mass to the centre of the 28x28 image.
    let mass: f32 = small.iter().sum();
    let (mut cx, mut cy) = (0.0, 0.0);
    for (i, &v) in small.iter().enumerate() {
        cx += (i % new_w) as f32 * v;
        cy += (i / new_w) as f32 * v;
    }
    // MNIST puts the centre of mass at pixel (14, 14), in pixel-index coordinates, and
    // shifts by whole pixels: a sub-pixel shift would blur strokes the model saw crisp
    // (measured: 958 vs 998 of 1000 round-tripped test digits read as the originals).
    let centre = (IMAGE_SIDE / 2) as f32;
    let offset =
        |com: f32, size: usize| ((centre - com / mass).round() as i64).clamp(0, (IMAGE_SIDE - size) as i64) as usize;
    let (ox, oy) = (offset(cx, new_w), offset(cy, new_h));
    let mut out = vec![0.0f32; IMAGE_PIXELS];
    for (i, &v) in small.iter().enumerate() {
        out[(oy + i / new_w) * IMAGE_SIDE + ox + i % new_w] = v;
    }

    // 5. Into [0, 1], the darkest pixel at 1 as in MNIST.
    let peak = out.iter().copied().fold(0.0, f32::max);
    out.iter_mut().for_each(|v| *v /= peak);
    Some((out, bw.max(bh)))
}

/// The 28x28 input as RGBA for the preview: white ink on black, as MNIST is usually shown.
pub fn preview_rgba(input: &[f32]) -> Vec<u8> {
    input
        .iter()
        .flat_map(|&v| {
            let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            [g, g, g, 255]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas(w: usize, h: usize, dark: impl Fn(usize, usize) -> bool) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                if dark(i % w, i / w) {
                    [0, 0, 0, 255]
                } else {
                    [255, 255, 255, 255]
                }
            })
            .collect()
    }

    #[test]
    fn area_averaging_keeps_every_stroke_and_the_mean_ink() {
        // A 1 px line in 37 columns, shrunk 37 -> 10: each output column covers 3.7
        // source columns, so the line lands, diluted, in exactly one of them; nearest
        // neighbour would drop it or keep it at full strength.
        let (w, h) = (37, 5);
        let src: Vec<f32> = (0..w * h).map(|i| if i % w == 17 { 1.0 } else { 0.0 }).collect();
        let out = resample(&src, w, h, 10, 5);
        for row in out.chunks_exact(10) {
            let lit: Vec<usize> = (0..10).filter(|&c| row[c] > 0.0).collect();
            assert_eq!(lit, [4], "{row:?}");
            assert!((row[4] - 1.0 / 3.7).abs() < 1e-6, "{row:?}");
        }
        // Any image, any factor: the mean is kept.
        let src: Vec<f32> = (0..53 * 41).map(|i| ((i * 7919) % 256) as f32).collect();
        let out = resample(&src, 53, 41, 20, 15);
        let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!(
            (mean(&out) - mean(&src)).abs() < 1e-3 * mean(&src),
            "{} vs {}",
            mean(&out),
            mean(&src)
        );
    }

    #[test]
    fn blank_and_speck_canvases_are_no_digit() {
        assert_eq!(preprocess(&canvas(280, 280, |_, _| false), 280, 280), None);
        assert_eq!(preprocess(&vec![0; 280 * 280 * 4], 280, 280), None, "transparent");
        assert_eq!(preprocess(&canvas(280, 280, |x, y| x == 5 && y == 5), 280, 280), None);
        assert_eq!(preprocess(&[1, 2, 3], 1, 1), None, "wrong length");
    }

    #[test]
    fn a_bar_becomes_a_centred_20px_bar() {
        let rgba = canvas(280, 280, |x, y| (30..50).contains(&x) && (20..220).contains(&y));
        let out = preprocess(&rgba, 280, 280).unwrap();
        let rows: Vec<usize> = (0..28)
            .filter(|&y| out[y * 28..y * 28 + 28].iter().any(|&v| v > 0.5))
            .collect();
        assert_eq!(rows.len(), 20, "the longer side is 20 px");
        assert_eq!((rows[0], rows[19]), (5, 24), "centre of mass (9.5) moved to row 14");
        let cols: Vec<usize> = (0..28).filter(|&x| out[14 * 28 + x] > 0.5).collect();
        assert_eq!(cols, vec![14, 15], "2 px wide, centre of mass (0.5) moved to column 14");
        assert!(out.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    #[test]
    fn the_bounding_box_is_exact_to_the_pixel() {
        // 7 x 140 px: scaled by 20/140 to 1 x 20, on the columns and rows it covers.
        let rgba = canvas(280, 280, |x, y| (100..107).contains(&x) && (60..200).contains(&y));
        let out = preprocess(&rgba, 280, 280).unwrap();
        let inked: Vec<usize> = (0..28 * 28).filter(|&i| out[i] > 0.0).collect();
        assert_eq!(inked.len(), 20, "one column of 20");
        assert!(inked.iter().all(|&i| i % 28 == 14), "in column 14");
        assert!(
            inked.iter().all(|&i| (out[i] - 1.0).abs() < 1e-6),
            "every pixel fully inked"
        );
    }

    #[test]
    fn ink_piled_at_one_end_stays_inside_the_image() {
        // A 200 px bar with a heavy block at its left end: its centre of mass is near the
        // left, so centring it would push the bar past the right edge; it stops there.
        let rgba = canvas(280, 280, |x, y| {
            (40..240).contains(&x) && (100..110).contains(&y) || (40..80).contains(&x) && (60..150).contains(&y)
        });
        let out = preprocess(&rgba, 280, 280).unwrap();
        let columns: Vec<usize> = (0..28).filter(|&x| (0..28).any(|y| out[y * 28 + x] > 0.0)).collect();
        assert_eq!(
            columns,
            (8..28).collect::<Vec<_>>(),
            "the 20 px bar ends at the right edge, whole"
        );
    }

    #[test]
    fn a_short_stroke_is_a_digit_and_a_speck_is_not() {
        // The bar: 0.05% of the canvas fully inked (39 pixels of 78,400) is the least.
        let line = |length: usize| canvas(280, 280, move |x, y| x == 140 && (100..100 + length).contains(&y));
        assert!(preprocess(&line(60), 280, 280).is_some(), "60 px of ink");
        assert!(preprocess(&line(30), 280, 280).is_none(), "30 px of ink");
    }

    #[test]
    fn a_dot_is_too_small_to_be_a_digit_and_a_small_digit_is_not() {
        let square = |side: usize| {
            canvas(280, 280, move |x, y| {
                (100..100 + side).contains(&x) && (100..100 + side).contains(&y)
            })
        };
        assert_eq!(prepare(&square(12), 280, 280), Drawing::TooSmall, "a 12 px dot");
        let tenth = preprocess(&square(28), 280, 280).unwrap();
        assert_eq!(
            prepare(&square(28), 280, 280),
            Drawing::Digit(tenth),
            "28 px: a tenth of the canvas"
        );
        assert_eq!(
            prepare(&canvas(280, 280, |_, _| false), 280, 280),
            Drawing::Empty,
            "no ink is empty"
        );
    }

    #[test]
    fn the_preview_is_white_ink_on_black() {
        let mut input = vec![0.0f32; IMAGE_PIXELS];
        (input[0], input[1], input[783]) = (1.0, 0.5, 0.2);
        let rgba = preview_rgba(&input);
        assert_eq!(rgba.len(), IMAGE_PIXELS * 4);
        assert_eq!(rgba[..12], [255, 255, 255, 255, 128, 128, 128, 255, 0, 0, 0, 255]);
        assert_eq!(rgba[783 * 4..], [51, 51, 51, 255]);
    }
}
