//! The chain rule for one weight, with its numbers: what the lesson writes out for one
//! test image. Each term is a product of factors read from the forward pass; the terms
//! add up to the weight's entry of `backward`'s gradient, and to its central difference.
//! In f64, like the step panel, and only when a step of the lesson is revealed.

use crate::model::activation::{relu_grad, sigmoid_grad_from_output, tanh_grad_from_output, Activation};
use crate::model::loss::softmax_cross_entropy;
use crate::model::mlp::{Grads, Mlp, Scope};
use nalgebra::{DMatrix, DVector};

/// Which weight: `output_layer.weight[row, col]` or `layers.0.weight[row, col]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Output { row: usize, col: usize },
    First { row: usize, col: usize },
}

/// One factor of a term: its name as the lesson writes it (`p_3 − y_3`, `sigmoid0[5]`)
/// and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub name: String,
    pub value: f64,
}

/// One product of the chain rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub factors: Vec<Factor>,
    pub value: f64,
}

/// `dL/dW[row, col]` for one sample, as the sum of its terms.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainRule {
    pub tensor: &'static str,
    pub row: usize,
    pub col: usize,
    pub terms: Vec<Term>,
    /// The terms' sum.
    pub sum: f64,
    /// The entry of `backward`'s gradient.
    pub backward: f64,
    /// `(L(w + h) − L(w − h)) / 2h`, h = 1e-5.
    pub numeric: f64,
}

impl ChainRule {
    /// Whether every number is finite: a model whose run diverged holds NaN or infinity,
    /// and the lesson says so instead of showing them.
    pub fn is_finite(&self) -> bool {
        let factors = self.terms.iter().flat_map(|t| t.factors.iter().map(|f| f.value));
        let values = self.terms.iter().map(|t| t.value).chain(factors);
        values
            .chain([self.sum, self.backward, self.numeric])
            .all(f64::is_finite)
    }
}

fn factor(name: String, value: f64) -> Factor {
    Factor { name, value }
}

impl Factor {
    /// The name as a factor of a product: a difference outside any bracket is bracketed,
    /// `(p_3 − y_3)`, so that `(p_3 − y_3) · sigmoid0[0]` reads as it computes.
    pub fn in_product(&self) -> String {
        let mut depth = 0i32;
        let mut bare_minus = false;
        for c in self.name.chars() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '−' | '+' if depth == 0 => bare_minus = true,
                _ => {}
            }
        }
        if bare_minus {
            format!("({})", self.name)
        } else {
            self.name.clone()
        }
    }
}

impl Term {
    /// The product as written: `(p_3 − y_3) · sigmoid0[0]`.
    pub fn written(&self) -> String {
        let names: Vec<String> = self.factors.iter().map(Factor::in_product).collect();
        names.join(" · ")
    }
}

fn term(factors: Vec<Factor>) -> Term {
    let value = factors.iter().map(|f| f.value).product();
    Term { factors, value }
}

/// The loss of one sample (cross-entropy) and dL/doutput.   x: (in,), output: (1, out)
fn loss(mlp: &Mlp<f64>, x: &DVector<f64>, label: usize) -> (f64, DMatrix<f64>, crate::model::mlp::Cache<f64>) {
    let cache = mlp.forward_sample(x);
    let mut grad_output = DMatrix::zeros(1, cache.output.ncols());
    let loss = softmax_cross_entropy(&cache.output, &[label], &mut grad_output);
    (loss, grad_output, cache)
}

/// The activation's derivative at one unit, written with the cached tensors it reads
/// (`fc`: the pre-activation's name, `out`: the output's), and its value.
fn derivative(activation: Activation, (fc, fc_value): (&str, f64), (out, out_value): (&str, f64)) -> Factor {
    match activation {
        Activation::Sigmoid => factor(format!("{out}(1 − {out})"), sigmoid_grad_from_output(out_value)),
        Activation::Relu => factor(format!("[{fc} > 0]"), relu_grad(fc_value)),
        Activation::Tanh => factor(format!("1 − {out}²"), tanh_grad_from_output(out_value)),
    }
}

/// The chain rule for `weight` on image `x` of class `label`; `None` when the weight is
/// outside the model (or the first layer is the output layer).
pub fn chain_rule(mlp: &Mlp<f32>, x: &[f32], label: usize, weight: Weight) -> Option<ChainRule> {
    let mlp: Mlp<f64> = mlp.cast();
    let x = DVector::from_iterator(x.len(), x.iter().map(|&v| v as f64));
    let (_, grad_output, cache) = loss(&mlp, &x, label);
    let hidden = mlp.layers.len();
    let delta = |k: usize| factor(format!("p_{k} − y_{k}"), grad_output[(0, k)]);
    let (tensor, layer, row, col, terms) = match weight {
        Weight::Output { row, col } => {
            let below = match hidden {
                0 => factor(format!("x[{col}]"), *x.get(col)?),
                _ => factor(
                    format!("{}[{col}]", cache.activated_key(hidden - 1)),
                    cache.activated[hidden - 1][(0, col)],
                ),
            };
            (row < grad_output.ncols()).then_some(())?;
            (
                "output_layer.weight",
                hidden,
                row,
                col,
                vec![term(vec![delta(row), below])],
            )
        }
        Weight::First { row, col } if hidden > 0 => {
            let layer0 = &mlp.layers[0];
            (row < layer0.outputs() && col < layer0.inputs()).then_some(())?;
            let slope = derivative(
                mlp.activation,
                (&format!("fc0[{row}]"), cache.fc[0][(0, row)]),
                (
                    &format!("{}[{row}]", cache.activated_key(0)),
                    cache.activated[0][(0, row)],
                ),
            );
            let pixel = factor(format!("x[{col}]"), x[col]);
            // dL/d(the layer above's input j): one hidden layer reads the output's deltas directly.
            let above = upstream(&mlp, &cache, &grad_output);
            let (next, next_name) = (mlp.linear(1), if hidden == 1 { "W_out" } else { "W1" });
            let terms = (0..next.outputs())
                .map(|k| {
                    let d = if hidden == 1 {
                        delta(k)
                    } else {
                        factor(format!("δ_{k}"), above[k])
                    };
                    term(vec![
                        d,
                        factor(format!("{next_name}[{k}, {row}]"), next.weight[(k, row)]),
                        slope.clone(),
                        pixel.clone(),
                    ])
                })
                .collect();
            ("layers.0.weight", 0, row, col, terms)
        }
        Weight::First { .. } => return None,
    };
    let sum = terms.iter().map(|t: &Term| t.value).sum();
    let mut grads = Grads::default();
    mlp.backward(&cache, &grad_output, &mut grads, Scope::Params);
    let backward = grads.layers.get(layer).unwrap_or(&grads.output_layer).weight[(row, col)];
    Some(ChainRule {
        tensor,
        row,
        col,
        terms,
        sum,
        backward,
        numeric: central_difference(&mlp, &x, label, layer, row, col),
    })
}

/// dL/dfc of the second hidden layer (`layers.1`), for a net of two or more: what the
/// first layer's weight receives from above.
fn upstream(mlp: &Mlp<f64>, cache: &crate::model::mlp::Cache<f64>, grad_output: &DMatrix<f64>) -> Vec<f64> {
    if mlp.layers.len() < 2 {
        return grad_output.row(0).iter().copied().collect();
    }
    let mut grads = Grads::default();
    mlp.backward(cache, grad_output, &mut grads, Scope::Full);
    grads.fc[1].row(0).iter().copied().collect()
}

/// The net the lesson's questions are written for: the assignment's `784-[256]-10` with
/// sigmoid. `Err` holds the page's model as the lesson names it (`784-[64]-10 relu`), so a
/// step refuses instead of answering a question about another net.
pub fn assignment_model(mlp: &Mlp<f32>) -> Result<(), String> {
    let hidden: Vec<usize> = mlp.layers.iter().map(|l| l.outputs()).collect();
    let input = mlp.linear(0).inputs();
    let output = mlp.linear(hidden.len()).outputs();
    if (input, hidden.as_slice(), output, mlp.activation) == (784, &[256][..], 10, Activation::Sigmoid) {
        return Ok(());
    }
    let dims: Vec<String> = hidden.iter().map(usize::to_string).collect();
    Err(format!(
        "{input}-[{}]-{output} {}",
        dims.join(","),
        mlp.activation.name()
    ))
}

/// The weight a step of the lesson writes out, for image `x` of class `label`: `output`
/// is `output_layer.weight[label, 0]` (the true class, hidden unit 0); `first` is
/// `layers.0.weight[0, i]` with `i` the image's brightest pixel (the first, if several);
/// `blank` the same unit's weight from the first pixel with no ink. `None` for any other
/// name, or an image with no pixel of that kind.
pub fn pick(which: &str, x: &[f32], label: usize) -> Option<Weight> {
    let col = match which {
        "output" => return Some(Weight::Output { row: label, col: 0 }),
        "first" => {
            let top = x.iter().copied().fold(0.0_f32, f32::max);
            x.iter().position(|&v| v == top && v > 0.0)?
        }
        "blank" => x.iter().position(|&v| v == 0.0)?,
        _ => return None,
    };
    Some(Weight::First { row: 0, col })
}

/// `(L(w + h) − L(w − h)) / 2h` for one weight of layer `layer`.
fn central_difference(mlp: &Mlp<f64>, x: &DVector<f64>, label: usize, layer: usize, row: usize, col: usize) -> f64 {
    const H: f64 = 1e-5;
    let nudged = |by: f64| {
        let mut m = mlp.clone();
        let linear = m.layers.get_mut(layer).unwrap_or(&mut m.output_layer);
        linear.weight[(row, col)] += by;
        loss(&m, x, label).0
    };
    (nudged(H) - nudged(-H)) / (2.0 * H)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<f32> {
        // Ink on some pixels, blank paper on the rest, as MNIST.
        (0..784)
            .map(|i| if i % 7 == 3 { (i % 13) as f32 / 13.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn the_terms_add_up_to_backward_and_the_central_difference() {
        for activation in Activation::ALL {
            for hidden in [&[12][..], &[12, 6]] {
                let mlp = Mlp::<f32>::new(784, hidden, 10, 3).with_activation(activation);
                let weights =
                    (0..6).flat_map(|j| [Weight::Output { row: j, col: 5 - j }, Weight::First { row: j, col: 3 }]);
                let mut nonzero = 0;
                for weight in weights {
                    let rule = chain_rule(&mlp, &image(), 4, weight).expect("inside the model");
                    let scale = rule.backward.abs().max(1.0);
                    assert!(
                        (rule.sum - rule.backward).abs() <= 1e-12 * scale,
                        "{activation:?} {hidden:?} {weight:?}: {rule:?}"
                    );
                    assert!(
                        (rule.numeric - rule.backward).abs() < 1e-8,
                        "{activation:?} {weight:?}: {} vs {}",
                        rule.numeric,
                        rule.backward
                    );
                    nonzero += usize::from(rule.backward != 0.0);
                }
                assert!(nonzero >= 6, "{activation:?} {hidden:?}: most weights have a gradient");
            }
        }
    }

    #[test]
    fn a_first_layer_weight_has_one_term_per_output_unit_and_a_blank_pixel_none() {
        let mlp = Mlp::<f32>::new(784, &[16], 10, 1);
        let rule = chain_rule(&mlp, &image(), 2, Weight::First { row: 3, col: 3 }).expect("inside");
        assert_eq!(rule.terms.len(), 10);
        assert_eq!(rule.terms[0].factors.len(), 4);
        assert_eq!(rule.terms[0].factors[0].name, "p_0 − y_0");
        assert_eq!(
            rule.terms[0].written(),
            "(p_0 − y_0) · W_out[0, 3] · sigmoid0[3](1 − sigmoid0[3]) · x[3]",
            "a difference is bracketed in a product; a product of brackets is not"
        );
        let tanh = Mlp::<f32>::new(784, &[16], 10, 1).with_activation(Activation::Tanh);
        let rule = chain_rule(&tanh, &image(), 2, Weight::First { row: 3, col: 3 }).expect("inside");
        assert_eq!(rule.terms[0].factors[2].in_product(), "(1 − tanh0[3]²)");
        let blank = chain_rule(&mlp, &image(), 2, Weight::First { row: 3, col: 0 }).expect("inside");
        assert_eq!((blank.sum, blank.backward), (0.0, 0.0), "x_i = 0: exactly 0");
        let output = chain_rule(&mlp, &image(), 2, Weight::Output { row: 2, col: 5 }).expect("inside");
        assert_eq!(output.terms.len(), 1);
        assert!(output.terms[0].factors[0].value < 0.0, "p_y − 1 for the true class");
        assert!(chain_rule(&mlp, &image(), 2, Weight::Output { row: 10, col: 0 }).is_none());
        assert!(chain_rule(
            &Mlp::<f32>::new(784, &[], 10, 1),
            &image(),
            2,
            Weight::First { row: 0, col: 0 }
        )
        .is_none());
    }
    #[test]
    fn the_lesson_answers_on_the_assignment_net_only() {
        assert_eq!(assignment_model(&Mlp::<f32>::new(784, &[256], 10, 1)), Ok(()));
        let other = |hidden: &[usize], activation| {
            assignment_model(&Mlp::<f32>::new(784, hidden, 10, 1).with_activation(activation))
        };
        assert_eq!(other(&[64], Activation::Relu), Err("784-[64]-10 relu".to_string()));
        assert_eq!(other(&[256], Activation::Tanh), Err("784-[256]-10 tanh".to_string()));
        assert_eq!(
            other(&[256, 256], Activation::Sigmoid),
            Err("784-[256,256]-10 sigmoid".to_string())
        );
    }

    #[test]
    fn the_lesson_picks_the_true_class_the_brightest_pixel_and_a_blank_one() {
        let x = image();
        assert_eq!(pick("output", &x, 7), Some(Weight::Output { row: 7, col: 0 }));
        // image(): pixel i is (i % 13) / 13 where i % 7 == 3; the largest, 12/13, first at i = 38.
        assert_eq!(pick("first", &x, 7), Some(Weight::First { row: 0, col: 38 }));
        assert_eq!(pick("blank", &x, 7), Some(Weight::First { row: 0, col: 0 }));
        assert_eq!(pick("first", &[0.0; 784], 7), None, "no ink: no brightest pixel");
        assert_eq!(pick("blank", &[1.0; 4], 7), None);
        assert_eq!(pick("bias", &x, 7), None);
        // Each pick is a weight of the page's 784-[256]-10 model, with a chain rule.
        let mlp = Mlp::<f32>::new(784, &[256], 10, 1);
        for which in ["output", "first", "blank"] {
            let rule = chain_rule(&mlp, &x, 7, pick(which, &x, 7).unwrap()).expect("inside");
            assert!(
                (rule.sum - rule.backward).abs() <= 1e-12 * rule.backward.abs().max(1.0),
                "{which}"
            );
        }
    }

    #[test]
    fn a_diverged_model_gives_a_chain_rule_that_is_not_finite() {
        let mut mlp = Mlp::<f32>::new(784, &[16], 10, 1);
        let rule = chain_rule(&mlp, &image(), 2, Weight::Output { row: 2, col: 0 }).expect("inside");
        assert!(rule.is_finite());
        mlp.output_layer.weight[(3, 4)] = f32::NAN;
        let rule = chain_rule(&mlp, &image(), 2, Weight::Output { row: 2, col: 0 }).expect("inside");
        assert!(!rule.is_finite());
    }
}
