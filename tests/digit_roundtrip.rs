//! The canvas preprocessing (`src/digit.rs`) on real MNIST test digits: scaled up into a
//! 280x280 RGBA canvas as a browser would hand it over, then prepared again.
#![cfg(not(target_arch = "wasm32"))]

use backprop_lab::digit::preprocess;
use backprop_lab::mlp::Mlp;
use backprop_lab::mnist::{load_local, IMAGE_PIXELS, IMAGE_SIDE};
use backprop_lab::predict::predicted_classes;
use backprop_lab::train::{TrainConfig, Trainer};
use nalgebra::DMatrix;

const CANVAS: usize = 280;

/// Paint a 28x28 digit as dark ink on a white canvas, each pixel a `scale` x `scale`
/// block, its top-left corner at (`left`, `top`) (may be negative: clipped).
fn draw(image: &[u8], scale: usize, left: i64, top: i64) -> Vec<u8> {
    let mut rgba = vec![255u8; CANVAS * CANVAS * 4];
    for y in 0..CANVAS as i64 {
        for x in 0..CANVAS as i64 {
            let (sx, sy) = ((x - left).div_euclid(scale as i64), (y - top).div_euclid(scale as i64));
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
        let back = preprocess(&draw(test.image(i), 10, 0, 0), CANVAS, CANVAS).expect("a digit");
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

#[test]
fn size_and_position_on_the_canvas_do_not_matter() {
    let (_, test) = load_local();
    let mut all = Vec::new();
    for i in 0..100 {
        let centre = preprocess(&draw(test.image(i), 10, 0, 0), CANVAS, CANVAS).unwrap();
        let corner = preprocess(&draw(test.image(i), 4, 150, 160), CANVAS, CANVAS).unwrap();
        let large = preprocess(&draw(test.image(i), 12, -40, -30), CANVAS, CANVAS).unwrap();
        // Whole-pixel centring (as MNIST) may round a centre of mass near a half pixel
        // either way, so each pair is compared at its best alignment within 1 px.
        let (rc, rl) = (
            aligned_correlation(&centre, &corner),
            aligned_correlation(&centre, &large),
        );
        assert!(
            rc > 0.9 && rl > 0.9,
            "digit {i}: small-in-corner r={rc:.3}, large-off-centre r={rl:.3}"
        );
        all.extend([correlation(&centre, &corner), correlation(&centre, &large)]);
    }
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    println!("size/position invariance: mean correlation {mean:.4}");
    assert!(mean > 0.97, "mean correlation {mean}");
}

#[test]
fn a_trained_model_reads_round_tripped_digits_as_the_originals() {
    let (train, test) = load_local();
    let config = TrainConfig {
        epochs: 1,
        train_limit: Some(20_000),
        ..TrainConfig::fast()
    };
    let mut trainer = Trainer::new(config, train.len());
    while !trainer.is_finished() {
        trainer.step(&train, &test, 0.0).unwrap();
    }
    let classify = |mlp: &Mlp<f32>, inputs: &[Vec<f32>]| -> Vec<usize> {
        let x = DMatrix::from_fn(inputs.len(), IMAGE_PIXELS, |r, c| inputs[r][c]);
        predicted_classes(&mlp.forward_batch(x).output).collect()
    };
    let originals: Vec<Vec<f32>> = (0..1000).map(|i| as_input(test.image(i))).collect();
    let round_tripped: Vec<Vec<f32>> = (0..1000)
        .map(|i| preprocess(&draw(test.image(i), 10, 0, 0), CANVAS, CANVAS).unwrap())
        .collect();
    let (a, b) = (
        classify(&trainer.mlp, &originals),
        classify(&trainer.mlp, &round_tripped),
    );
    let agree = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    println!("round-tripped digits classified as the originals: {agree}/1000");
    assert!(agree >= 950, "only {agree}/1000 agree");
}
