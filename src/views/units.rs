//! What the first layer learned: each unit's weights as a 28x28 tile, what one unit
//! does (its bias, its pull on each digit, the test images that excite it most), and
//! which units a drawn digit lights up for the digit the model picks.

use crate::files::mnist::{Dataset, IMAGE_PIXELS};
use crate::model::mlp::Mlp;
use nalgebra::{DMatrix, DVector};

/// The first layer's weights, one row (a 28x28 tile) per unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiles {
    /// `layers.0.weight`, or `output_layer.weight` for a net with no hidden layer.
    pub layer: String,
    pub units: usize,
    /// `units x 784`, row-major: unit u's tile is `values[u * 784..][..784]`.
    pub values: Vec<f32>,
    /// `max |w|` of each unit's tile: each tile is drawn on its own scale.
    pub scales: Vec<f32>,
}

/// The first layer's weights as tiles; `None` when its input is not a 28x28 image.
pub fn tiles(mlp: &Mlp<f32>) -> Option<Tiles> {
    let (layer, weight) = match mlp.layers.first() {
        Some(first) => ("layers.0.weight", &first.weight),
        None => ("output_layer.weight", &mlp.output_layer.weight),
    };
    if weight.ncols() != IMAGE_PIXELS {
        return None;
    }
    let values = weight.transpose().as_slice().to_vec();
    let scales = values
        .chunks(IMAGE_PIXELS)
        .map(|tile| tile.iter().fold(0.0f32, |m, w| m.max(w.abs())))
        .collect();
    Some(Tiles {
        layer: layer.to_string(),
        units: weight.nrows(),
        values,
        scales,
    })
}

/// One unit of the first layer, looked at closely.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub bias: f32,
    /// `output_layer.weight[:, unit]`: how much the unit pushes each digit's logit, for a
    /// net with one hidden layer (deeper nets have no such direct line).
    pub outgoing: Option<Vec<f32>>,
    /// The test images that excite it most, as (index, activation), strongest first.
    pub top_images: Vec<(usize, f32)>,
}

/// Unit `unit` of the first layer, and its `top` most exciting test images. The
/// activation is `sigmoid0[unit]` (the logit itself when there is no hidden layer).
pub fn unit(mlp: &Mlp<f32>, test: &Dataset, unit: usize, top: usize) -> Option<Unit> {
    let first = mlp.layers.first().unwrap_or(&mlp.output_layer);
    if unit >= first.outputs() || first.inputs() != IMAGE_PIXELS {
        return None;
    }
    let weights: Vec<f32> = first.weight.row(unit).iter().copied().collect();
    let bias = first.bias[unit];
    let squash = !mlp.layers.is_empty();
    let mut excited: Vec<(usize, f32)> = (0..test.len())
        .map(|i| {
            // fc0[unit] = w . x + b, over the image's inked pixels only
            let image = test.image(i);
            let z = bias
                + image
                    .iter()
                    .zip(&weights)
                    .filter(|(&ink, _)| ink != 0)
                    .map(|(&ink, &w)| w * (ink as f32 / 255.0))
                    .sum::<f32>();
            (
                i,
                if squash {
                    crate::model::activation::sigmoid(z)
                } else {
                    z
                },
            )
        })
        .collect();
    excited.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    excited.truncate(top);
    let outgoing = (mlp.layers.len() == 1).then(|| mlp.output_layer.weight.column(unit).iter().copied().collect());
    Some(Unit {
        bias,
        outgoing,
        top_images: excited,
    })
}

/// The first hidden layer's answer to one input, and each unit's push on the winner.
#[derive(Clone, Debug, PartialEq)]
pub struct Lit {
    /// `sigmoid0`: one activation per unit.
    pub activations: Vec<f32>,
    /// The digit the model picks.
    pub winner: usize,
    /// `s_j * d(output[winner]) / d(s_j)`: how much unit j's activation adds to the
    /// winner's logit (with one hidden layer, exactly its share of it).
    pub push: Vec<f32>,
    /// The units that push the winner most, strongest first.
    pub strongest: Vec<usize>,
}

/// How many units a drawing's view highlights.
const STRONGEST: usize = 8;

/// What the first hidden layer makes of `x` (in,); `None` with no hidden layer.
pub fn lit(mlp: &Mlp<f32>, x: &[f32]) -> Option<Lit> {
    let first = mlp.layers.first()?;
    if first.inputs() != x.len() {
        return None;
    }
    let cache = mlp.forward_sample(&DVector::from_column_slice(x));
    let winner = cache.output.row(0).transpose().imax();
    // d(output[winner])/d(sigmoid0) (or relu0, tanh0): the one-hot row, back through the layers above.
    let mut grad = DMatrix::from_fn(1, mlp.output_dim(), |_, c| if c == winner { 1.0f32 } else { 0.0 });
    for l in (1..=mlp.layers.len()).rev() {
        grad = &grad * &mlp.linear(l).weight; // grad @ W: d/d(sigmoid{l-1})
        if l > 1 {
            mlp.activation
                .backward(&mut grad, &cache.fc[l - 1], &cache.activated[l - 1]);
        }
    }
    let activations: Vec<f32> = cache.activated[0].iter().copied().collect();
    let push: Vec<f32> = activations.iter().zip(grad.iter()).map(|(s, g)| s * g).collect();
    let mut strongest: Vec<usize> = (0..push.len()).collect();
    strongest.sort_by(|&a, &b| push[b].total_cmp(&push[a]));
    strongest.truncate(STRONGEST);
    Some(Lit {
        activations,
        winner,
        push,
        strongest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::predict::classify;

    #[test]
    fn tiles_are_the_weights_row_by_row_each_with_its_own_scale() {
        let mlp = Mlp::<f32>::new(784, &[6], 10, 1);
        let t = tiles(&mlp).unwrap();
        assert_eq!(
            (t.layer.as_str(), t.units, t.values.len()),
            ("layers.0.weight", 6, 6 * 784)
        );
        assert_eq!(t.values[2 * 784 + 300], mlp.layers[0].weight[(2, 300)]);
        let max = (0..784).map(|p| mlp.layers[0].weight[(4, p)].abs()).fold(0.0, f32::max);
        assert_eq!(t.scales[4], max);
        let flat = Mlp::<f32>::new(784, &[], 10, 1);
        assert_eq!(tiles(&flat).unwrap().layer, "output_layer.weight");
        assert!(tiles(&Mlp::<f32>::new(30, &[6], 10, 1)).is_none());
    }

    #[test]
    fn a_units_top_images_are_those_its_activation_ranks_first() {
        let test = crate::test_support::synthetic(200, 4);
        let mlp = Mlp::<f32>::new(784, &[6], 10, 3);
        let u = unit(&mlp, &test, 2, 5).unwrap();
        assert_eq!(u.bias, mlp.layers[0].bias[2]);
        assert_eq!(
            u.outgoing.as_deref().unwrap(),
            mlp.output_layer.weight.column(2).as_slice()
        );
        assert_eq!(u.top_images.len(), 5);
        let activation = |i: usize| mlp.forward_sample(&DVector::from_vec(test.input(i))).activated[0][(0, 2)];
        for &(i, a) in &u.top_images {
            assert!((a - activation(i)).abs() < 1e-5, "image {i}");
        }
        let fifth = u.top_images[4].1;
        assert!(
            (0..200).filter(|&i| activation(i) > fifth + 1e-5).count() < 5,
            "none stronger left out"
        );
        assert!(unit(&mlp, &test, 6, 5).is_none());
        assert!(unit(&Mlp::<f32>::new(784, &[6, 5], 10, 3), &test, 0, 3)
            .unwrap()
            .outgoing
            .is_none());
    }

    #[test]
    fn with_one_hidden_layer_the_pushes_and_bias_make_the_winners_logit() {
        let mlp = Mlp::<f32>::new(784, &[16], 10, 8);
        let x: Vec<f32> = (0..784).map(|p| if p % 29 < 9 { 0.8 } else { 0.0 }).collect();
        let lit = lit(&mlp, &x).unwrap();
        assert_eq!(lit.winner, classify(&mlp, &x).class);
        let logit = mlp.forward_sample(&DVector::from_vec(x.clone())).output[(0, lit.winner)];
        let sum: f32 = lit.push.iter().sum::<f32>() + mlp.output_layer.bias[lit.winner];
        assert!((sum - logit).abs() < 1e-4, "{sum} vs {logit}");
        assert_eq!(lit.strongest.len(), 8);
        let weakest_shown = lit.push[lit.strongest[7]];
        assert!(lit.strongest.windows(2).all(|w| lit.push[w[0]] >= lit.push[w[1]]));
        assert_eq!(
            lit.push.iter().filter(|&&p| p > weakest_shown).count(),
            7,
            "the eight largest"
        );
        // Deeper: each push is s_j times the derivative, checked against a nudge of s_j.
        let deep = Mlp::<f32>::new(784, &[8, 5], 10, 2);
        let lit = super::lit(&deep, &x).unwrap();
        let cache = deep.forward_sample(&DVector::from_vec(x));
        let logit_from = |s0: &DMatrix<f32>| {
            let s1 = (s0 * deep.layers[1].weight.transpose() + deep.layers[1].bias.transpose())
                .map(crate::model::activation::sigmoid);
            (s1 * deep.output_layer.weight.transpose() + deep.output_layer.bias.transpose())[(0, lit.winner)]
        };
        for j in [0, 3, 7] {
            let (mut up, mut down) = (cache.activated[0].clone(), cache.activated[0].clone());
            up[(0, j)] += 1e-2;
            down[(0, j)] -= 1e-2;
            let derivative = (logit_from(&up) - logit_from(&down)) / 2e-2;
            let expected = cache.activated[0][(0, j)] * derivative;
            assert!(
                (lit.push[j] - expected).abs() < 1e-3,
                "unit {j}: {} vs {expected}",
                lit.push[j]
            );
        }
        assert!(super::lit(&Mlp::<f32>::new(784, &[], 10, 1), &[0.0; 784]).is_none());
    }
}
