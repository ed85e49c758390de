//! Helpers for the unit tests only: data small enough to train in milliseconds.

use crate::files::mnist::{Dataset, CLASSES, IMAGE_PIXELS};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Ten separable "digits" as sparse as MNIST's: class c inks a block of 78 pixels of
/// its own, and about one other pixel in ten is noise. About 20% of the pixels are
/// inked, so training takes the sparse, fused path that MNIST takes.
pub fn synthetic(count: usize, salt: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(salt);
    let mut pixels = vec![0u8; count * IMAGE_PIXELS];
    let labels: Vec<u8> = (0..count).map(|i| (i % CLASSES) as u8).collect();
    for (i, &label) in labels.iter().enumerate() {
        let image = &mut pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS];
        for (p, v) in image.iter_mut().enumerate() {
            *v = if p / 78 == label as usize {
                200
            } else if rand::Rng::random_bool(&mut rng, 0.1) {
                rand::Rng::random_range(&mut rng, 1..=255)
            } else {
                0
            };
        }
    }
    Dataset::new("synthetic", pixels, "synthetic", labels).unwrap()
}
