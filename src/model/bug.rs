//! "Break the backward": classic mistakes in a hand-written backward pass. Each swaps one
//! line of [`Mlp::backward_with`](crate::model::mlp::Mlp::backward_with) for a wrong one, so the
//! gradient check can show which tensors it spoils.

/// One line of the backward pass, written wrong on purpose. `None` is the right pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bug {
    #[default]
    None,
    /// Skips `grad = grad * s * (1 - s)` (the activation's derivative, whichever it is).
    NoSigmoidDerivative,
    /// `grad = grad * fc * (1 - fc)`: the derivative taken from the pre-activation (for
    /// ReLU, from the output instead, which happens to be harmless).
    DerivativeFromFc,
    /// `grad = grad * s * (1 - s)` for a ReLU or tanh layer: the sigmoid's derivative
    /// copied from the notebook (harmless only in a sigmoid net).
    SigmoidDerivative,
    /// `bias.grad = grad.mean(0)` instead of `grad.sum(0)`.
    BiasMean,
    /// `weight.grad = grad.T @ fc{i-1}` instead of `grad.T @ sigmoid{i-1}`.
    FcAsLayerInput,
    /// `grad_output = target - prediction`: the sign flipped.
    GradOutputSign,
    /// The notebook's crash: with a 1-D sample, `grad.T @ x` is a dot product of two
    /// vectors of different lengths.
    Notebook1dTranspose,
}

impl Bug {
    /// Every bug, in the order the page lists them.
    pub const ALL: [Bug; 8] = [
        Bug::None,
        Bug::NoSigmoidDerivative,
        Bug::DerivativeFromFc,
        Bug::SigmoidDerivative,
        Bug::BiasMean,
        Bug::FcAsLayerInput,
        Bug::GradOutputSign,
        Bug::Notebook1dTranspose,
    ];

    /// The page's name for it (the select's value).
    pub fn code(self) -> &'static str {
        match self {
            Bug::None => "none",
            Bug::NoSigmoidDerivative => "no_sigmoid_derivative",
            Bug::DerivativeFromFc => "derivative_from_fc",
            Bug::SigmoidDerivative => "sigmoid_derivative",
            Bug::BiasMean => "bias_mean",
            Bug::FcAsLayerInput => "fc_as_layer_input",
            Bug::GradOutputSign => "grad_output_sign",
            Bug::Notebook1dTranspose => "notebook_1d_transpose",
        }
    }

    pub fn from_code(code: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|bug| bug.code() == code)
    }
}

/// The error PyTorch raises for [`Bug::Notebook1dTranspose`]: `grad` (out,) and the
/// layer's input (in,) are both 1-D, so `grad.T @ x` is a dot product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeCrash {
    /// The output layer's: the first line of the backward pass is where it crashes.
    pub grad_len: usize,
    pub input_len: usize,
}

impl ShapeCrash {
    /// What PyTorch prints for `torch.matmul` of two 1-D tensors of these lengths.
    pub fn pytorch_message(&self) -> String {
        let (g, x) = (self.grad_len, self.input_len);
        if g == x {
            // Same lengths: the dot product is a scalar, which `.grad` refuses.
            format!("RuntimeError: assigned grad has data of a different size (a scalar, for a weight of [{g}, {x}])")
        } else {
            format!(
                "RuntimeError: inconsistent tensor size, expected tensor [{g}] and src [{x}] to have the same number of elements, but got {g} and {x} elements respectively"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for bug in Bug::ALL {
            assert_eq!(Bug::from_code(bug.code()), Some(bug));
        }
        assert_eq!(Bug::from_code("nonsense"), None);
        assert_eq!(Bug::default(), Bug::None);
    }

    #[test]
    fn the_crash_reads_as_pytorch_says_it() {
        let crash = ShapeCrash {
            grad_len: 2,
            input_len: 4,
        };
        assert!(crash.pytorch_message().contains("expected tensor [2] and src [4]"));
    }
}
