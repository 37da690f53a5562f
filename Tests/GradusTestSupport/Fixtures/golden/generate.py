#!/usr/bin/env python3
"""Golden optimizer trajectories from the reference implementations (CPU, float32).

Run from the repository root with a Python that has the references installed (the versions are
pinned in REFERENCE_VERSIONS below and checked at start):
    python Tests/GradusTestSupport/Fixtures/golden/generate.py [OPTIMIZER ...]
It writes one `<optimizer>.safetensors` per Gradus optimizer beside this script, plus
`problems.safetensors` (the matrix problems' A, B and X0).

How a case runs: the reference optimizer starts at the problem's starting point; at every step the
script computes the float32 autograd gradient there, records it, calls `step()`, and records the point
and every entry of the reference's per-parameter state (tensors as F32, numbers and 0-d tensors as
F64). The Swift test (GoldenOptimizerTests) feeds the recorded gradients to the Gradus plugin, so the
comparison isolates the optimizer's arithmetic, and compares the point and every state slot after
each step. Slot names are the reference's state keys unless a case renames them.

Problems: three 2-D test functions (`gradus trace --function NAME`) and two least-squares matrix
problems f(X) = ½‖A·X − B‖²_F / m (`gradus trace --function least_squares --data DIR`), one tall
(X is 5×4) and one wide (X is 4×6), because a 2-parameter problem cannot tell matrix-aware methods
(AdamP, Conda, NorMuon, Adafactor's factoring, …) from simpler rules.

File layout (safetensors): for case i, `i.x` [steps+1, *shape] (the start, then the point after each
step), `i.grad` [steps, *shape], `i.state.NAME` [steps, *slot shape] (F32) or [steps] (F64 numbers).
The header's metadata holds `cases`, a JSON list of {name, problem, settings (Gradus names and CLI
text), steps, rtol, atol, note}.
"""
import importlib
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 150

REFERENCE_VERSIONS = {
    "torch": "2.13.0+cpu",
    "pytorch_optimizer": "4.1.0",
    "torch_optimizer": "0.3.0",
    "adamp": "0.3.0",
    "dog-optimizer": "1.0.3",
    "prodigyopt": "1.1.2",
    "dadaptation": "3.2",
    "schedulefree": "1.4.1",
    "dctadam": "0.1.0",
}


# ---- problems -------------------------------------------------------------------------------------

def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def quadratic(p):
    x, y = p[0], p[1]
    return 0.5 * (x * x + 10 * y * y)


def least_squares_data(m, k, n, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(m, k, generator=g)
    b = torch.randn(m, n, generator=g)
    x0 = torch.randn(k, n, generator=g) * 0.5
    return a, b, x0


def least_squares(a, b):
    m = a.shape[0]
    return lambda x: 0.5 * ((a @ x - b) ** 2).sum() / m


MATRIX_DATA = {
    "least_squares_tall": least_squares_data(12, 5, 4, seed=11),   # X is 5×4
    "least_squares_wide": least_squares_data(10, 4, 6, seed=12),   # X is 4×6
}

PROBLEMS = {
    "rosenbrock": (rosenbrock, torch.tensor([-1.2, 1.0])),
    "beale": (beale, torch.tensor([1.0, 1.0])),
    "quadratic": (quadratic, torch.tensor([1.0, 1.0])),
    **{name: (least_squares(a, b), x0) for name, (a, b, x0) in MATRIX_DATA.items()},
}
FUNCTIONS = ["rosenbrock", "beale", "quadratic"]
MATRICES = list(MATRIX_DATA)


# ---- cases ----------------------------------------------------------------------------------------

class Case:
    """One golden trajectory.

    optimizer: the Gradus id without `gradus.` (the output file name).
    name: unique within the optimizer; the problem name is appended.
    settings: Gradus hyperparameter names → CLI text (reference constructor names, tuples split).
    make: (params, settings) → the reference optimizer; reads every value from `settings` (with the
          reference default when absent) so the fixture says exactly what ran.
    problems: problem names (default: the three functions and both matrices).
    state: optional (optimizer, param) → {name: tensor or number} replacing the default reading of
           `optimizer.state[param]` (for state the reference keeps in groups, or under other names).
    rename: reference state key → Gradus slot name; skip: keys not recorded (flags, caches).
    before_step / after_step: optional hooks (optimizer, param) around `step()` (e.g. schedule-free's
           train()/eval()).
    rtol, atol: the comparison tolerance for this case (default 1e-5 relative, 1e-6 absolute);
    note: why a tolerance is looser or anything else a reader of the fixture must know.
    """

    def __init__(self, optimizer, name, settings, make, problems=None, state=None, rename=None, skip=(),
                 steps=STEPS, rtol=1e-5, atol=1e-6, note="", before_step=None, after_step=None):
        self.optimizer, self.name, self.settings, self.make = optimizer, name, dict(settings), make
        self.problems = list(problems) if problems is not None else FUNCTIONS + MATRICES
        self.state, self.rename, self.skip = state, dict(rename or {}), set(skip)
        self.steps, self.rtol, self.atol, self.note = steps, rtol, atol, note
        self.before_step, self.after_step = before_step, after_step


def f(settings, key, default):
    """A real-valued setting, or the reference default."""
    return float(settings[key]) if key in settings else default


def b(settings, key, default=False):
    """A boolean setting."""
    return settings[key] == "true" if key in settings else default


def i(settings, key, default):
    return int(settings[key]) if key in settings else default


def s(settings, key, default):
    return settings.get(key, default)


def read_state(case, opt, p):
    raw = case.state(opt, p) if case.state else dict(opt.state[p])
    out = {}
    for key, value in raw.items():
        if key in case.skip or value is None or isinstance(value, (bool, str)):
            continue
        name = case.rename.get(key, key)
        if isinstance(value, torch.Tensor):
            if value.dtype == torch.bool:
                continue
            if value.dim() == 0:
                out[name] = ("f64", float(value))
            else:
                out[name] = ("f32", value.detach().to(torch.float32).clone().numpy())
        elif isinstance(value, (int, float)):
            out[name] = ("f64", float(value))
    return out


def run(case, problem):
    fn, start = PROBLEMS[problem]
    p = torch.nn.Parameter(start.clone().to(torch.float32))
    opt = case.make([p], case.settings)
    xs, grads, states = [p.detach().clone().numpy()], [], {}
    for step in range(case.steps):
        opt.zero_grad()
        loss = fn(p)
        loss.backward()
        grads.append(p.grad.detach().clone().numpy())
        if case.before_step:
            case.before_step(opt, p)
        opt.step()
        if case.after_step:
            case.after_step(opt, p)
        xs.append(p.detach().clone().numpy())
        for name, (kind, value) in read_state(case, opt, p).items():
            states.setdefault(name, (kind, []))[1].append(value)
        if not np.all(np.isfinite(xs[-1])):
            raise SystemExit(f"{case.optimizer}/{case.name} diverged on {problem} at step {step + 1}")
    for name, (kind, values) in states.items():
        if len(values) != case.steps:
            raise SystemExit(f"{case.optimizer}/{case.name}: state '{name}' appears only after the first step")
    return np.stack(xs), np.stack(grads), states


def write(optimizer, cases):
    tensors, meta = {}, []
    for case in cases:
        for problem in case.problems:
            idx = len(meta)
            xs, grads, states = run(case, problem)
            tensors[f"{idx}.x"] = np.ascontiguousarray(xs, dtype=np.float32)
            tensors[f"{idx}.grad"] = np.ascontiguousarray(grads, dtype=np.float32)
            for name, (kind, values) in states.items():
                dtype = np.float64 if kind == "f64" else np.float32
                tensors[f"{idx}.state.{name}"] = np.ascontiguousarray(np.stack(values) if kind == "f32" else values, dtype=dtype)
            meta.append({"name": f"{case.name}-{problem}", "problem": problem, "settings": case.settings,
                         "steps": case.steps, "rtol": case.rtol, "atol": case.atol, "note": case.note,
                         "state": sorted(states)})
    path = os.path.join(HERE, f"{optimizer}.safetensors")
    save_file(tensors, path, metadata={"generator": "golden/generate.py", "cases": json.dumps(meta),
                                       "versions": json.dumps(installed_versions())})
    os.chmod(path, 0o644)
    print(f"{optimizer}: {len(meta)} cases → {os.path.relpath(path)}")


def write_problems():
    tensors = {}
    for name, (a, b_, x0) in MATRIX_DATA.items():
        tensors[f"{name}.a"], tensors[f"{name}.b"], tensors[f"{name}.x0"] = a.numpy(), b_.numpy(), x0.numpy()
    path = os.path.join(HERE, "problems.safetensors")
    save_file(tensors, path, metadata={"generator": "golden/generate.py"})
    os.chmod(path, 0o644)


def write_clip_grad_norm():
    """torch.nn.utils.clip_grad_norm_ on three gradient tensors for max norms above, near and below
    their global norm: Fixtures/clip_grad_norm.json (the trainer's clip_grad_norm)."""
    g = torch.Generator().manual_seed(21)
    shapes = [(3, 4), (4,), (2, 3)]
    cases = []
    for max_norm in [100.0, 5.0, 1.0, 0.01]:
        grads = [torch.randn(sh, generator=torch.Generator().manual_seed(7 + k)) * (k + 1) for k, sh in enumerate(shapes)]
        ps = [torch.nn.Parameter(torch.zeros(sh)) for sh in shapes]
        for p, gr in zip(ps, grads):
            p.grad = gr.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, foreach=False)
        cases.append({"max_norm": max_norm, "grads": [gr.flatten().tolist() for gr in grads],
                      "clipped": [p.grad.flatten().tolist() for p in ps], "total_norm": float(total)})
    path = os.path.join(os.path.dirname(HERE), "clip_grad_norm.json")
    with open(path, "w") as fh:
        json.dump({"generator": "golden/generate.py", "torch": torch.__version__, "cases": cases}, fh)
        fh.write("\n")


def installed_versions():
    from importlib.metadata import version, PackageNotFoundError
    out = {}
    for name in REFERENCE_VERSIONS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


CASE_MODULES = ["cases_torch", "cases_pytorch_optimizer", "cases_authors"]


def all_cases():
    sys.path.insert(0, HERE)
    cases = []
    for module in CASE_MODULES:
        if os.path.exists(os.path.join(HERE, module + ".py")):
            cases += importlib.import_module(module).CASES
    return cases


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    versions = installed_versions()
    wrong = {k: v for k, v in versions.items() if v != REFERENCE_VERSIONS[k]}
    if wrong:
        print(f"warning: versions differ from the pinned ones: {wrong}", file=sys.stderr)
    write_problems()
    write_clip_grad_norm()
    wanted = set(sys.argv[1:])
    by_optimizer = {}
    for case in all_cases():
        by_optimizer.setdefault(case.optimizer, []).append(case)
    for optimizer, cases in sorted(by_optimizer.items()):
        if not wanted or optimizer in wanted:
            write(optimizer, cases)


if __name__ == "__main__":
    main()
