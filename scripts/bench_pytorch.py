"""PyTorch's side of issue 5's native ratio, measured in the same `make bench` run.

The issue's reference step: the notebook's Part 2 (784-256-10, sigmoid, cross-entropy, plain
SGD at lr 0.01, batch 64), real PyTorch autograd, one thread, the whole training set
preloaded as one float32 tensor (no DataLoader). Each epoch of 60,000 is timed; prints
one JSON line, as the native benchmark does.

    python3 scripts/bench_pytorch.py <folder with the raw MNIST IDX files> [epochs]
"""

import json
import sys
import time

import numpy as np
import torch


def idx(path, header):
    return np.fromfile(path, dtype=np.uint8)[header:]


def main():
    folder = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    torch.manual_seed(1)
    images = torch.tensor(idx(f"{folder}/train-images-idx3-ubyte", 16).reshape(60000, 784), dtype=torch.float32) / 255
    labels = torch.tensor(idx(f"{folder}/train-labels-idx1-ubyte", 8).astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.Sigmoid(), torch.nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    rates = []
    for _ in range(epochs + 1):  # the first epoch warms up, untimed
        order = torch.randperm(60000)
        x, y = images[order], labels[order]
        start = time.perf_counter()
        for i in range(0, 60000, 64):
            optimizer.zero_grad()
            loss_fn(model(x[i : i + 64]), y[i : i + 64]).backward()
            optimizer.step()
        rates.append(60000 / (time.perf_counter() - start))
    rates = sorted(rates[1:], reverse=True)
    print(json.dumps({
        "bench": "train_step", "target": "pytorch", "torch": torch.__version__,
        "threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "runs": epochs, "samples_per_s_best": round(rates[0]), "samples_per_s_median": round(rates[len(rates) // 2]),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
