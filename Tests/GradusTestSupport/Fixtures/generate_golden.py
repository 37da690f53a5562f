#!/usr/bin/env python3
"""Generates golden optimizer trajectories with torch.optim (CPU, float32).

Run from the repository root with a Python that has PyTorch installed:
    python Tests/GradusRuntimeTests/Fixtures/generate_golden.py
It rewrites golden_trajectories.json, layernorm.json, rmsnorm.json, batchnorm.json and convolution.json beside this script.

Each case starts an optimizer at a test function's usual starting point, feeds it the
autograd gradient of the function (float32) at every step, and records that gradient,
the point and every state tensor after each of `steps` updates. The Swift test feeds the
recorded gradients to the Gradus plugin, so the comparison isolates the optimizer's
arithmetic; a second test checks Gradus's hand-written gradients against them. Settings use Gradus's names
(PyTorch's, with betas split into beta1/beta2) and are written as the text the CLI gets.
"""
import json
import os

import torch

STEPS = 200


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def quadratic(x, y):
    return 0.5 * (x * x + 10 * y * y)


FUNCTIONS = {
    "rosenbrock": (rosenbrock, [-1.2, 1.0]),
    "beale": (beale, [1.0, 1.0]),
    "quadratic": (quadratic, [1.0, 1.0]),
}

# Learning rates per function keep SGD stable on each surface.
SGD_LR = {"rosenbrock": "0.0001", "beale": "0.001", "quadratic": "0.05"}

SGD_VARIANTS = {
    "plain": {},
    "momentum": {"momentum": "0.9", "dampening": "0.1"},
    "nesterov": {"momentum": "0.9", "nesterov": "true"},
    "weight_decay": {"momentum": "0.5", "weight_decay": "0.1"},
}
ADAM_VARIANTS = {
    "plain": {},
    "amsgrad": {"amsgrad": "true", "beta1": "0.8", "beta2": "0.99"},
    "weight_decay": {"weight_decay": "0.1", "eps": "1e-6"},
}

STATE_NAMES = {
    "sgd": {"momentum_buffer": "momentum_buffer"},
    "adam": {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq"},
}
# Scalar state (torch keeps Adam's step as a 0-d tensor); recorded per step under "scalar_state".
SCALAR_STATE_NAMES = {
    "sgd": {},
    "adam": {"step": "step"},
}


def make_optimizer(kind, params, settings):
    s = dict(settings)
    if kind == "sgd":
        return torch.optim.SGD(
            params, lr=float(s["lr"]), momentum=float(s.get("momentum", 0)),
            dampening=float(s.get("dampening", 0)), weight_decay=float(s.get("weight_decay", 0)),
            nesterov=s.get("nesterov") == "true", maximize=s.get("maximize") == "true", foreach=False)
    return torch.optim.Adam(
        params, lr=float(s.get("lr", "0.001")),
        betas=(float(s.get("beta1", 0.9)), float(s.get("beta2", 0.999))), eps=float(s.get("eps", 1e-8)),
        weight_decay=float(s.get("weight_decay", 0)), amsgrad=s.get("amsgrad") == "true",
        maximize=s.get("maximize") == "true", foreach=False)


def run_case(kind, function, settings):
    f, start = FUNCTIONS[function]
    p = torch.tensor(start, dtype=torch.float32, requires_grad=True)
    opt = make_optimizer(kind, [p], settings)
    points = [p.detach().tolist()]
    grads = []
    state = {}
    scalars = {}
    for _ in range(STEPS):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        grads.append(p.grad.tolist())
        opt.step()
        points.append(p.detach().tolist())
        st = opt.state[p]
        for torch_name, gradus_name in STATE_NAMES[kind].items():
            if torch_name in st and st[torch_name] is not None:
                state.setdefault(gradus_name, []).append(st[torch_name].tolist())
        for torch_name, gradus_name in SCALAR_STATE_NAMES[kind].items():
            scalars.setdefault(gradus_name, []).append(float(st[torch_name]))
    return points, grads, state, scalars


def main():
    torch.set_num_threads(1)
    cases = []
    for function in FUNCTIONS:
        for variant, extra in SGD_VARIANTS.items():
            settings = {"lr": SGD_LR[function], **extra}
            points, grads, state, scalars = run_case("sgd", function, settings)
            cases.append({"name": f"sgd-{variant}-{function}", "optimizer": "gradus.sgd", "function": function,
                          "settings": settings, "trajectory": points, "gradients": grads, "state": state,
                          "scalar_state": scalars})
        for variant, extra in ADAM_VARIANTS.items():
            settings = {"lr": "0.01", **extra}
            points, grads, state, scalars = run_case("adam", function, settings)
            cases.append({"name": f"adam-{variant}-{function}", "optimizer": "gradus.adam", "function": function,
                          "settings": settings, "trajectory": points, "gradients": grads, "state": state,
                          "scalar_state": scalars})
    out = {"generator": "generate_golden.py", "torch": torch.__version__, "dtype": "float32", "steps": STEPS,
           "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_trajectories.json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


def layernorm_cases():
    """torch.nn.functional.layer_norm forward and backward on seeded random data."""
    gen = torch.Generator().manual_seed(1234)
    cases = []
    for name, shape, dims, affine, eps in [("affine-2d", (4, 6), 1, True, 1e-5),
                                          ("affine-3d-two-axes", (2, 3, 4), 2, True, 1e-5),
                                          ("no-affine", (3, 5), 1, False, 1e-3)]:
        x = (torch.randn(shape, generator=gen) * 2 + 0.5).requires_grad_(True)
        feat = shape[-dims:]
        w = (torch.randn(feat, generator=gen) * 0.5 + 1).requires_grad_(True) if affine else None
        b = (torch.randn(feat, generator=gen) * 0.5).requires_grad_(True) if affine else None
        y = torch.nn.functional.layer_norm(x, feat, w, b, eps)
        dy = torch.randn(shape, generator=gen)
        y.backward(dy)
        case = {"name": name, "shape": list(shape), "normalized_dims": dims, "eps": eps, "affine": affine,
                "x": x.detach().flatten().tolist(), "dy": dy.flatten().tolist(),
                "y": y.detach().flatten().tolist(), "dx": x.grad.flatten().tolist()}
        if affine:
            case.update({"weight": w.detach().flatten().tolist(), "bias": b.detach().flatten().tolist(),
                         "dweight": w.grad.flatten().tolist(), "dbias": b.grad.flatten().tolist()})
        cases.append(case)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layernorm.json")
    with open(path, "w") as fh:
        json.dump({"generator": "generate_golden.py", "torch": torch.__version__, "cases": cases}, fh)
        fh.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


def rmsnorm_cases():
    """torch.nn.functional.rms_norm forward and backward on seeded random data; eps=None is
    torch's default (the dtype's machine epsilon)."""
    gen = torch.Generator().manual_seed(4321)
    cases = []
    for name, shape, dims, affine, eps in [("affine-2d", (4, 6), 1, True, 1e-6),
                                          ("affine-3d-two-axes", (2, 3, 4), 2, True, 1e-5),
                                          ("no-affine-default-eps", (3, 5), 1, False, None)]:
        x = (torch.randn(shape, generator=gen) * 2 + 0.5).requires_grad_(True)
        feat = shape[-dims:]
        w = (torch.randn(feat, generator=gen) * 0.5 + 1).requires_grad_(True) if affine else None
        y = torch.nn.functional.rms_norm(x, feat, w, eps)
        dy = torch.randn(shape, generator=gen)
        y.backward(dy)
        case = {"name": name, "shape": list(shape), "normalized_dims": dims, "affine": affine,
                "eps": torch.finfo(torch.float32).eps if eps is None else eps,
                "x": flat(x), "dy": flat(dy), "y": flat(y), "dx": x.grad.flatten().tolist()}
        if affine:
            case.update({"weight": flat(w), "dweight": w.grad.flatten().tolist()})
        cases.append(case)
    write_fixture("rmsnorm.json", cases)


def write_fixture(name, cases):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w") as fh:
        json.dump({"generator": "generate_golden.py", "torch": torch.__version__, "cases": cases}, fh)
        fh.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


def flat(t):
    return t.detach().flatten().tolist()


def batchnorm_cases():
    """torch.nn.functional.batch_norm in train mode (output, gradients, running statistics
    after the update) and then in eval mode with the updated statistics."""
    gen = torch.Generator().manual_seed(4321)
    cases = []
    for name, shape, momentum, affine, eps in [("1d-affine", (6, 4), 0.1, True, 1e-5),
                                               ("2d-affine", (3, 2, 4, 5), 0.3, True, 1e-5),
                                               ("2d-plain", (2, 3, 3, 3), 0.1, False, 1e-3)]:
        c = shape[1]
        x = (torch.randn(shape, generator=gen) * 1.5 + 0.7).requires_grad_(True)
        w = (torch.randn(c, generator=gen) * 0.5 + 1).requires_grad_(True) if affine else None
        b = (torch.randn(c, generator=gen) * 0.5).requires_grad_(True) if affine else None
        rm0 = torch.randn(c, generator=gen) * 0.2
        rv0 = torch.rand(c, generator=gen) + 0.5
        rm, rv = rm0.clone(), rv0.clone()
        y = torch.nn.functional.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum, eps=eps)
        dy = torch.randn(shape, generator=gen)
        y.backward(dy)
        case = {"name": name, "shape": list(shape), "momentum": momentum, "eps": eps, "affine": affine,
                "x": flat(x), "dy": flat(dy), "running_mean0": flat(rm0), "running_var0": flat(rv0),
                "y": flat(y), "dx": flat(x.grad), "running_mean": flat(rm), "running_var": flat(rv)}
        if affine:
            case.update({"weight": flat(w), "bias": flat(b), "dweight": flat(w.grad), "dbias": flat(b.grad)})
        xe = x.detach().clone().requires_grad_(True)
        ye = torch.nn.functional.batch_norm(xe, rm, rv, w.detach() if affine else None, b.detach() if affine else None,
                                            training=False, eps=eps)
        ye.backward(dy)
        case.update({"y_eval": flat(ye), "dx_eval": flat(xe.grad)})
        cases.append(case)
    write_fixture("batchnorm.json", cases)


def convolution_cases():
    """torch.nn.functional.conv2d / max_pool2d / avg_pool2d outputs and input gradients."""
    gen = torch.Generator().manual_seed(99)
    cases = []
    for name, xs, ws, stride, padding in [("3x3", (2, 3, 7, 6), (4, 3, 3, 3), 1, 1), ("strided", (1, 2, 9, 9), (3, 2, 5, 3), 2, 0)]:
        x = torch.randn(xs, generator=gen).requires_grad_(True)
        w = torch.randn(ws, generator=gen).requires_grad_(True)
        b = torch.randn(ws[0], generator=gen).requires_grad_(True)
        y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
        dy = torch.randn(y.shape, generator=gen)
        y.backward(dy)
        cases.append({"name": name, "op": "conv2d", "x_shape": list(xs), "w_shape": list(ws), "stride": stride, "padding": padding,
                      "x": flat(x), "w": flat(w), "b": flat(b), "dy": flat(dy), "y": flat(y), "y_shape": list(y.shape),
                      "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)})
    for op, kernel, stride, padding in [("max_pool2d", 2, 2, 0), ("max_pool2d", 3, 2, 1), ("avg_pool2d", 2, 2, 0), ("avg_pool2d", 3, 2, 1)]:
        x = torch.randn((2, 3, 7, 7), generator=gen).requires_grad_(True)
        y = getattr(torch.nn.functional, op)(x, kernel, stride, padding)
        dy = torch.randn(y.shape, generator=gen)
        y.backward(dy)
        cases.append({"name": f"{op} k{kernel} s{stride} p{padding}", "op": op, "x_shape": [2, 3, 7, 7], "kernel": kernel,
                      "stride": stride, "padding": padding, "x": flat(x), "dy": flat(dy), "y": flat(y),
                      "y_shape": list(y.shape), "dx": flat(x.grad)})
    write_fixture("convolution.json", cases)


def array_files():
    """Tiny dataset files written by numpy (NPY) and by the IDX layout MNIST uses, for the loaders."""
    import numpy as np
    import struct
    here = os.path.dirname(os.path.abspath(__file__))
    images = (np.arange(5 * 4 * 4, dtype=np.int64) * 37 % 256).astype(np.uint8).reshape(5, 4, 4)
    labels = np.array([3, 0, 2, 1, 3], dtype=np.int64)
    np.save(os.path.join(here, "tiny_images.npy"), images)
    np.save(os.path.join(here, "tiny_labels.npy"), labels)
    np.save(os.path.join(here, "tiny_features_f8_be.npy"), (np.arange(10, dtype=">f8") / 4 - 1).reshape(5, 2))
    with open(os.path.join(here, "tiny-images-idx3-ubyte"), "wb") as fh:
        fh.write(struct.pack(">BBBBIII", 0, 0, 0x08, 3, 5, 4, 4) + images.tobytes())
    with open(os.path.join(here, "tiny-labels-idx1-ubyte"), "wb") as fh:
        fh.write(struct.pack(">BBBBI", 0, 0, 0x08, 1, 5) + labels.astype(np.uint8).tobytes())
    print("wrote tiny NPY and IDX files")


if __name__ == "__main__":
    array_files()
    batchnorm_cases()
    convolution_cases()
    layernorm_cases()
    rmsnorm_cases()
    main()
