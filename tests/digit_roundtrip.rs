//! The canvas preprocessing (`src/views/digit.rs`) on real MNIST test digits: scaled up into a
//! 280x280 RGBA canvas as a browser would hand it over, then prepared again.
#![cfg(not(target_arch = "wasm32"))]

use backprop_lab::files::mnist::{load_local, IMAGE_PIXELS, IMAGE_SIDE};
use backprop_lab::model::loss::predicted_classes;
use backprop_lab::train::{TrainConfig, Trainer};
use backprop_lab::views::digit::preprocess;
use nalgebra::DMatrix;

const CANVAS: usize = 280;

/// Paint a 28x28 digit as dark ink on a white canvas, each pixel a `scale` x `scale`
/// block (a fractional scale makes blocks of uneven sizes), its top-left corner at
/// (`left`, `top`) (may be negative: clipped).
fn draw(image: &[u8], scale: f64, left: i64, top: i64) -> Vec<u8> {
    let mut rgba = vec![255u8; CANVAS * CANVAS * 4];
    for y in 0..CANVAS as i64 {
        for x in 0..CANVAS as i64 {
            let source = |at: i64, from: i64| ((at - from) as f64 / scale).floor() as i64;
            let (sx, sy) = (source(x, left), source(y, top));
            if (0..IMAGE_SIDE as i64).contains(&sx) && (0..IMAGE_SIDE as i64).contains(&sy) {
                let ink = image[sy as usize * IMAGE_SIDE + sx as usize];
                let i = (y as usize * CANVAS + x as usize) * 4;
                rgba[i..i + 3].fill(255 - ink);
            }
        }
    }
    rgba
}

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        ab += dx * dy;
        aa += dx * dx;
        bb += dy * dy;
    }
    ab / (aa * bb).sqrt()
}

/// The best correlation of `a` with `b` shifted by at most one pixel each way.
fn aligned_correlation(a: &[f32], b: &[f32]) -> f64 {
    let side = IMAGE_SIDE as i64;
    let mut best = f64::MIN;
    for (dx, dy) in (-1..=1).flat_map(|dx| (-1..=1).map(move |dy| (dx, dy))) {
        let shifted: Vec<f32> = (0..side * side)
            .map(|i| {
                let (x, y) = (i % side - dx, i / side - dy);
                if (0..side).contains(&x) && (0..side).contains(&y) {
                    b[(y * side + x) as usize]
                } else {
                    0.0
                }
            })
            .collect();
        best = best.max(correlation(a, &shifted));
    }
    best
}

fn as_input(image: &[u8]) -> Vec<f32> {
    image.iter().map(|&v| v as f32 / 255.0).collect()
}

#[test]
fn upscaled_digits_come_back_close_to_the_original() {
    let (_, test) = load_local();
    let mut worst: f64 = 1.0;
    let mut total = 0.0;
    for i in 0..200 {
        let original = as_input(test.image(i));
        let back = preprocess(&draw(test.image(i), 10.0, 0, 0), CANVAS, CANVAS).expect("a digit");
        let r = correlation(&original, &back);
        worst = worst.min(r);
        total += r;
    }
    println!(
        "round trip correlation over 200 digits: mean {:.4}, worst {worst:.4}",
        total / 200.0
    );
    // MNIST digits were made by this very recipe, so the round trip nearly reproduces
    // them (measured mean 0.997). A rare 1 px centring difference (rounding a centre of
    // mass near a half pixel) is the worst case and still correlates above 0.5.
    assert!(total / 200.0 > 0.98, "mean correlation {}", total / 200.0);
    assert!(worst > 0.5, "worst correlation {worst}");
}

/// Odd sizes and places on the canvas: (scale, left, top).
const PLACEMENTS: [(f64, i64, i64); 4] = [(4.3, 150, 160), (7.7, 13, 29), (9.1, -5, 17), (9.8, -30, -20)];

/// The centre of mass (x, y) of a 28x28 image, in pixel-index coordinates.
fn centre_of_mass(image: &[f32]) -> (f64, f64) {
    let (mut mass, mut x, mut y) = (0.0, 0.0, 0.0);
    for (i, &v) in image.iter().enumerate() {
        mass += v as f64;
        x += (i % IMAGE_SIDE) as f64 * v as f64;
        y += (i / IMAGE_SIDE) as f64 * v as f64;
    }
    (x / mass, y / mass)
}

#[test]
fn at_any_size_and_place_the_digit_comes_back_as_mnist_drew_it() {
    let (_, test) = load_local();
    let mut all = Vec::new();
    for i in 0..100 {
        let original = as_input(test.image(i));
        for (scale, left, top) in PLACEMENTS {
            let back = preprocess(&draw(test.image(i), scale, left, top), CANVAS, CANVAS).unwrap();
            // Centred by the centre of mass, as MNIST: on pixel 14 to within the whole-pixel shift.
            let (cx, cy) = centre_of_mass(&back);
            assert!(
                (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
                "digit {i} at scale {scale}: centre of mass ({cx:.2}, {cy:.2})"
            );
            // Against MNIST's own image; a centre of mass near a half pixel may round
            // either way, so at the best alignment within 1 px.
            let r = aligned_correlation(&original, &back);
            assert!(r > 0.85, "digit {i} at scale {scale}, ({left}, {top}): r={r:.3}");
            all.push(r);
        }
    }
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    println!("odd sizes and places: mean correlation with MNIST's image {mean:.4}");
    assert!(mean > 0.95, "mean correlation {mean}");
}

#[test]
fn a_trained_model_reads_round_tripped_digits_as_well_as_mnists_own() {
    let (train, test) = load_local();
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::fast()
    };
    let mut trainer = Trainer::new(config, train.len());
    while !trainer.is_finished() {
        trainer.step(&train, &test, 0.0).unwrap();
    }
    let accuracy = |inputs: &[Vec<f32>]| -> f64 {
        let x = DMatrix::from_fn(inputs.len(), IMAGE_PIXELS, |r, c| inputs[r][c]);
        let predicted: Vec<usize> = predicted_classes(&trainer.mlp.forward_batch(x).output).collect();
        let right = predicted
            .iter()
            .enumerate()
            .filter(|&(i, &p)| p == test.label(i))
            .count();
        100.0 * right as f64 / inputs.len() as f64
    };
    let originals: Vec<Vec<f32>> = (0..1000).map(|i| as_input(test.image(i))).collect();
    let (scale, left, top) = PLACEMENTS[1];
    let drawn: Vec<Vec<f32>> = (0..1000)
        .map(|i| preprocess(&draw(test.image(i), scale, left, top), CANVAS, CANVAS).unwrap())
        .collect();
    let (mnist, ours) = (accuracy(&originals), accuracy(&drawn));
    println!("test accuracy on MNIST's images {mnist:.1}%, on the same digits drawn and prepared {ours:.1}%");
    assert!(mnist > 90.0, "{mnist}");
    assert!(
        ours >= mnist - 1.5,
        "prepared digits {ours}% against MNIST's own {mnist}%"
    );
}
