//! `optimizer.step()`, written out as `torch.optim` defines it: SGD (with optional
//! momentum, Nesterov and weight decay) and Adam. Each update reads the gradients
//! `backward` left and the optimiser's own state, kept beside the model.

use crate::model::float::Float;
use crate::model::mlp::{Grads, Mlp};

/// `optimizer.step()` for one tensor of plain SGD: p -= lr * grad.
pub fn sgd<T: Float>(param: &mut [T], grad: &[T], learning_rate: T) {
    assert_eq!(param.len(), grad.len(), "a gradient for every parameter");
    for (p, &g) in param.iter_mut().zip(grad) {
        *p -= learning_rate * g;
    }
}

/// Plain SGD's `optimizer.step()`: every parameter of the model, from `backward`'s gradients.
pub fn sgd_step<T: Float>(mlp: &mut Mlp<T>, grads: &Grads<T>, learning_rate: T) {
    for (param, grad) in mlp.params_mut().zip(grads.params()) {
        sgd(param, grad, learning_rate);
    }
}

/// Which `torch.optim` class, with its own hyper-parameters (`lr` and `weight_decay`
/// are [`Optimizer`]'s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    /// `torch.optim.SGD(momentum=, nesterov=)`, dampening 0. Momentum 0 is plain SGD.
    Sgd { momentum: f64, nesterov: bool },
    /// `torch.optim.Adam(betas=(beta1, beta2), eps=)`, L2 weight decay (not `AdamW`).
    Adam { beta1: f64, beta2: f64, eps: f64 },
}

impl OptimizerKind {
    /// The notebook's: plain SGD.
    pub const PLAIN_SGD: OptimizerKind = OptimizerKind::Sgd {
        momentum: 0.0,
        nesterov: false,
    };
    /// The usual momentum, 0.9.
    pub const DEFAULT_MOMENTUM: f64 = 0.9;
    /// `torch.optim.Adam`'s default betas.
    pub const DEFAULT_BETAS: (f64, f64) = (0.9, 0.999);
    /// `torch.optim.SGD(momentum=0.9)`.
    pub const MOMENTUM: OptimizerKind = OptimizerKind::Sgd {
        momentum: Self::DEFAULT_MOMENTUM,
        nesterov: false,
    };
    /// `torch.optim.Adam`'s defaults.
    pub const ADAM: OptimizerKind = OptimizerKind::Adam {
        beta1: Self::DEFAULT_BETAS.0,
        beta2: Self::DEFAULT_BETAS.1,
        eps: 1e-8,
    };

    /// `torch.optim.SGD(momentum=0.9, nesterov=True)`.
    pub const NESTEROV: OptimizerKind = OptimizerKind::Sgd {
        momentum: Self::DEFAULT_MOMENTUM,
        nesterov: true,
    };
    /// Each kind with its defaults, in the order the page lists them.
    pub const ALL: [OptimizerKind; 4] = [Self::PLAIN_SGD, Self::MOMENTUM, Self::NESTEROV, Self::ADAM];

    /// The URL's and the form's name: `sgd`, `momentum`, `nesterov` or `adam`.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd { momentum: 0.0, .. } => "sgd",
            OptimizerKind::Sgd { nesterov: false, .. } => "momentum",
            OptimizerKind::Sgd { nesterov: true, .. } => "nesterov",
            OptimizerKind::Adam { .. } => "adam",
        }
    }

    /// Whether it reads the training form's field `field` (`momentum`, `beta1`, `beta2`;
    /// every other field, it does).
    pub fn reads(self, field: &str) -> bool {
        match field {
            "momentum" => matches!(self, OptimizerKind::Sgd { momentum, .. } if momentum > 0.0),
            "beta1" | "beta2" => matches!(self, OptimizerKind::Adam { .. }),
            _ => true,
        }
    }

    /// Its settings as the training form's fields (`opt`, `momentum`, `beta1`, `beta2`);
    /// the fields it does not read keep their defaults.
    pub fn fields(self) -> [(&'static str, String); 4] {
        let (mut momentum, (mut beta1, mut beta2)) = (Self::DEFAULT_MOMENTUM, Self::DEFAULT_BETAS);
        match self {
            OptimizerKind::Sgd { momentum: m, .. } if m > 0.0 => momentum = m,
            OptimizerKind::Sgd { .. } => {}
            OptimizerKind::Adam {
                beta1: b1, beta2: b2, ..
            } => (beta1, beta2) = (b1, b2),
        }
        [
            ("opt", self.name().to_string()),
            ("momentum", momentum.to_string()),
            ("beta1", beta1.to_string()),
            ("beta2", beta2.to_string()),
        ]
    }
}

/// An optimiser and its state: `torch.optim.SGD(...)` or `torch.optim.Adam(...)` over
/// the model's parameters, in `state_dict` order.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer<T: Float> {
    pub kind: OptimizerKind,
    pub learning_rate: f64,
    /// L2 weight decay: `grad = grad + weight_decay * p` before the update.
    pub weight_decay: f64,
    /// `state["step"]`: steps taken.
    pub steps: u64,
    /// `momentum_buffer` (SGD) or `exp_avg` (Adam), per parameter tensor; empty until the first step.
    pub first: Vec<Vec<T>>,
    /// `exp_avg_sq` (Adam), per parameter tensor; empty until the first step.
    pub second: Vec<Vec<T>>,
}

impl<T: Float> Optimizer<T> {
    pub fn new(kind: OptimizerKind, learning_rate: f64, weight_decay: f64) -> Self {
        Optimizer {
            kind,
            learning_rate,
            weight_decay,
            steps: 0,
            first: Vec::new(),
            second: Vec::new(),
        }
    }

    /// Plain SGD keeps no state, which lets the training step fuse its first layer's update.
    pub fn is_plain_sgd(&self) -> bool {
        self.kind == OptimizerKind::PLAIN_SGD && self.weight_decay == 0.0
    }

    /// `optimizer.step()`: every parameter, from `backward`'s gradients and the state.
    pub fn step(&mut self, mlp: &mut Mlp<T>, grads: &Grads<T>) {
        // The state is made at the first step, as torch.optim does: nothing is allocated after.
        let fresh = || grads.params().map(|g| vec![T::zero(); g.len()]).collect::<Vec<_>>();
        if !self.is_plain_sgd() && self.first.len() != grads.params().count() {
            self.first = fresh();
            self.second = match self.kind {
                OptimizerKind::Adam { .. } => fresh(),
                OptimizerKind::Sgd { .. } => Vec::new(),
            };
        }
        self.steps += 1;
        let (lr, wd) = (T::of(self.learning_rate), T::of(self.weight_decay));
        if self.is_plain_sgd() {
            return sgd_step(mlp, grads, lr); // no state: p -= lr * grad
        }
        let tensors = mlp.params_mut().zip(grads.params()).enumerate();
        match self.kind {
            OptimizerKind::Sgd { momentum, nesterov } => {
                let mu = T::of(momentum);
                for (i, (param, grad)) in tensors {
                    for ((p, &g), buf) in param.iter_mut().zip(grad).zip(&mut self.first[i]) {
                        let g = g + wd * *p; // grad = grad.add(param, alpha=weight_decay)
                        *buf = mu * *buf + g; // buf.mul_(momentum).add_(grad); the first step: buf = grad
                        let update = if nesterov { g + mu * *buf } else { *buf }; // grad = grad.add(buf, alpha=momentum)
                        *p -= lr * update; // param.add_(grad, alpha=-lr)
                    }
                }
            }
            OptimizerKind::Adam { beta1, beta2, eps } => {
                let t = self.steps as i32;
                let step_size = T::of(self.learning_rate / (1.0 - beta1.powi(t))); // lr / bias_correction1
                let bias_correction2_sqrt = T::of((1.0 - beta2.powi(t)).sqrt());
                let (b1, b2, eps) = (T::of(beta1), T::of(beta2), T::of(eps));
                for (i, (param, grad)) in tensors {
                    let moments = self.first[i].iter_mut().zip(&mut self.second[i]);
                    for ((p, &g), (m, v)) in param.iter_mut().zip(grad).zip(moments) {
                        let g = g + wd * *p; // grad = grad.add(param, alpha=weight_decay)
                        *m += (T::one() - b1) * (g - *m); // exp_avg.lerp_(grad, 1 - beta1)
                        *v = b2 * *v + (T::one() - b2) * g * g; // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                        let denom = v.sqrt() / bias_correction2_sqrt + eps; // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                        *p -= step_size * *m / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::loss::mse;
    use crate::model::mlp::Scope;
    use nalgebra::DMatrix;

    #[test]
    fn a_small_step_lowers_the_loss_by_lr_times_the_squared_gradient() {
        let mut mlp = Mlp::<f64>::new(4, &[3], 2, 1);
        let x = DMatrix::from_fn(5, 4, |r, c| (r + c) as f64 * 0.1);
        let y = DMatrix::from_fn(5, 2, |r, _| r as f64 * 0.2);
        let mut grad_out = DMatrix::zeros(5, 2);
        let mut grads = Default::default();
        let cache = mlp.forward_batch(x.clone());
        let before = mse(&cache.output, &y, &mut grad_out);
        mlp.backward(&cache, &grad_out, &mut grads, Scope::Full);
        let squared: f64 = grads.params().flat_map(|g| g.iter()).map(|g| g * g).sum();
        let lr = 1e-3;
        sgd_step(&mut mlp, &grads, lr);
        let after = mse(&mlp.forward_batch(x).output, &y, &mut grad_out);
        // First order: L(p - lr g) = L(p) - lr |g|^2 + O(lr^2).
        let predicted = before - lr * squared;
        assert!(
            (after - predicted).abs() < 0.01 * lr * squared,
            "{after} vs {predicted}"
        );
    }

    #[test]
    fn each_optimizer_reads_only_its_fields() {
        let read = |kind: OptimizerKind| ["momentum", "beta1", "beta2", "lr"].map(|f| kind.reads(f));
        assert_eq!(read(OptimizerKind::PLAIN_SGD), [false, false, false, true]);
        assert_eq!(read(OptimizerKind::MOMENTUM), [true, false, false, true]);
        assert_eq!(read(OptimizerKind::ADAM), [false, true, true, true]);
        assert_eq!(OptimizerKind::ADAM.fields()[0], ("opt", "adam".to_string()));
    }

    #[test]
    fn sgd_moves_against_the_gradient() {
        let mut p = [1.0f32, -2.0, 0.5];
        sgd(&mut p, &[0.5, -1.0, 0.0], 0.1);
        assert_eq!(p, [0.95, -1.9, 0.5]);
    }
}
