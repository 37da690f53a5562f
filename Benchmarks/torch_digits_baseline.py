#!/usr/bin/env python3
"""PyTorch reference for `gradus train`'s default job: MLP 64-128-10, Adam lr 1e-3, batch 64,
20 epochs, 80/20 split, over 10 seeds, with features standardised by the training split's
statistics (Gradus's default) and with pixels scaled by 1/16.

    pip install --no-deps torch==2.13.0+cpu && pip install numpy scikit-learn
    python Benchmarks/torch_digits_baseline.py

The split and initialisation use PyTorch's and NumPy's generators, so individual seeds do not
match Gradus's; compare the mean and spread.
"""
import numpy as np
import torch
from sklearn.datasets import load_digits


def run(X, y, seed, mode):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = round(0.2 * len(y))
    test, train = order[:n_test], order[n_test:]
    x_train, x_test = X[train].astype(np.float32), X[test].astype(np.float32)
    if mode == "scale16":
        x_train, x_test = x_train / 16, x_test / 16
    else:
        mean, std = x_train.mean(0), x_train.std(0)
        std[std < 1e-6] = 1
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x_train), torch.tensor(y[train])
    for _ in range(20):
        perm = torch.randperm(len(yt))
        for i in range(0, len(yt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    with torch.no_grad():
        return float((model(torch.tensor(x_test)).argmax(1).numpy() == y[test]).mean())


def main():
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    for mode in ["standardize", "scale16"]:
        acc = [run(X, y, seed, mode) for seed in range(10)]
        print(f"{mode}: test accuracy {np.mean(acc):.3f} ± {np.std(acc):.3f} over 10 seeds")


if __name__ == "__main__":
    main()
