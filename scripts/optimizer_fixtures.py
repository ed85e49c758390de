"""Optimiser fixtures for what the shared ones leave out (Nesterov, weight decay in SGD
and Adam, plain SGD with weight decay), made by real PyTorch in the format of
tests/fixtures/pytorch-more/README.md. Run by `make fixtures`; writes
tests/fixtures/pytorch-made-here/."""
import json
import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/pytorch-made-here")


class CustomMLP(nn.Module):
    """The notebook's model, with the hidden activation as a parameter."""

    def __init__(self, input_dim, hidden_dims, output_dim, activation):
        super().__init__()
        dims = [input_dim] + hidden_dims
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.output_layer = nn.Linear(dims[-1], output_dim)
        self.activation = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}[activation]

    def forward(self, x):
        for layer in self.layers:
            x = self.activation(layer(x))
        return self.output_layer(x)


def tensor(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def fixture(name, activation, optimizer_spec, make_optimizer, steps=4, dims=(20, [12, 7], 4), batch=8, seed=0):
    torch.manual_seed(seed)
    model = CustomMLP(dims[0], dims[1], dims[2], activation).double()
    params = {k: tensor(v) for k, v in model.state_dict().items()}
    optimizer = make_optimizer(model.parameters())
    recorded = []
    for _ in range(steps):
        x = torch.randn(batch, dims[0], dtype=torch.float64)
        labels = torch.randint(0, dims[2], (batch,))
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        recorded.append({"x": tensor(x), "labels": labels.tolist(), "loss_value": loss.item()})
    out = {
        "name": name,
        "dtype": "float64",
        "activation": activation,
        "loss": "cross_entropy",
        "loss_reduction": "mean",
        "input_dim": dims[0],
        "hidden_dims": dims[1],
        "output_dim": dims[2],
        "optimizer": optimizer_spec,
        "params": params,
        "steps": recorded,
        "params_after": {k: tensor(v) for k, v in model.state_dict().items()},
        "made_by": f"torch {torch.__version__} torch.optim (scripts/optimizer_fixtures.py)",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(out))
    print(f"wrote {OUT / name}.json")


SGD = torch.optim.SGD
fixture("optim_sgd_nesterov_wd_tanh_4_steps", "tanh",
        {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001},
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001))
fixture("optim_sgd_wd_relu_4_steps", "relu",
        {"name": "sgd", "lr": 0.1, "weight_decay": 0.01},
        lambda p: SGD(p, lr=0.1, weight_decay=0.01))
fixture("optim_adam_wd_sigmoid_4_steps", "sigmoid",
        {"name": "adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.01},
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.01))
