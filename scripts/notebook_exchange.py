"""The notebook's side of the weights exchange, with real PyTorch and safetensors.

    python scripts/notebook_exchange.py evaluate <weights.safetensors> <raw MNIST folder>
    python scripts/notebook_exchange.py train <out.safetensors> <raw MNIST folder>

`evaluate` loads a file the page exported into the notebook's CustomMLP, as the README
says to, and scores it on the 10,000 test images. `train` trains a CustomMLP with two
hidden layers for one epoch and saves its state_dict for the page. Each prints one JSON line.
"""

import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file


class CustomMLP(torch.nn.Module):
    """The notebook's model: {Linear -> Sigmoid} x len(hidden_dims) -> Linear."""

    def __init__(self, input_dim, hidden_dims, output_dim):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        prev = input_dim
        for h in hidden_dims:
            self.layers.append(torch.nn.Linear(prev, h))
            prev = h
        self.output_layer = torch.nn.Linear(prev, output_dim)
        self.activations = {}

    def forward(self, x):
        self.activations["input"] = x
        for i, layer in enumerate(self.layers):
            x = layer(x)
            self.activations[f"fc{i}"] = x.detach()
            x = torch.sigmoid(x)
            self.activations[f"sigmoid{i}"] = x.detach()
        x = self.output_layer(x)
        self.activations["output"] = x
        return x


def mnist(folder, kind):
    images = np.fromfile(f"{folder}/{kind}-images-idx3-ubyte", dtype=np.uint8)[16:].reshape(-1, 784)
    labels = np.fromfile(f"{folder}/{kind}-labels-idx1-ubyte", dtype=np.uint8)[8:].astype(np.int64)
    return torch.tensor(images, dtype=torch.float32) / 255, torch.tensor(labels)


def test_model(model, folder):
    """The notebook's test loop: accuracy in percent and mean cross-entropy."""
    x, y = mnist(folder, "t10k")
    with torch.no_grad():
        output = model(x)
        loss = torch.nn.functional.cross_entropy(output, y).item()
        correct = (output.argmax(1) == y).sum().item()
    return {"accuracy": 100 * correct / len(y), "loss": loss}


def main():
    mode, path, folder = sys.argv[1:4]
    torch.set_num_threads(1)
    if mode == "evaluate":
        state = load_file(path)
        hidden = [state[f"layers.{i}.weight"].shape[0] for i in range(len(state) // 2 - 1)]
        model = CustomMLP(784, hidden, 10)
        model.load_state_dict(state)
        print(json.dumps({"notebook": "evaluate", "hidden": hidden, **test_model(model, folder)}))
    elif mode == "train":
        torch.manual_seed(3)
        model = CustomMLP(784, [128, 64], 10)
        x, y = mnist(folder, "train")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        order = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            batch = order[i : i + 64]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        save_file(model.state_dict(), path)
        print(json.dumps({"notebook": "train", "hidden": [128, 64], **test_model(model, folder)}))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
