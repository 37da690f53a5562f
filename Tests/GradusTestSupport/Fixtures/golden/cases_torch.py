"""torch.optim 2.13 cases (foreach=False: the single-tensor code path, the plainest arithmetic).

Every `make` reads each hyperparameter from the case settings, falling back to the torch default, so
the fixture metadata states exactly what ran. Muon is the one reference that is altered: its
Newton-Schulz iteration runs in bfloat16 on CPU, which no float32 implementation can follow, so the
cases below swap in the same iteration carried out in float32 (see `_newton_schulz_f32`).
"""
import contextlib

import torch
import torch.optim._muon as _muon_module
from generate import Case, f, b, i, s, FUNCTIONS, MATRICES

NOT_ROSENBROCK = [p for p in FUNCTIONS + MATRICES if p != "rosenbrock"]


# ---- AdamW ----------------------------------------------------------------------------------------

def _adamw(ps, st):
    return torch.optim.AdamW(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                             eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 1e-2),
                             amsgrad=b(st, "amsgrad"), maximize=b(st, "maximize"), foreach=False)


# ---- Adagrad --------------------------------------------------------------------------------------

def _adagrad(ps, st):
    return torch.optim.Adagrad(ps, lr=f(st, "lr", 1e-2), lr_decay=f(st, "lr_decay", 0.0),
                               weight_decay=f(st, "weight_decay", 0.0),
                               initial_accumulator_value=f(st, "initial_accumulator_value", 0.0),
                               eps=f(st, "eps", 1e-10), maximize=b(st, "maximize"), foreach=False)


# ---- RMSprop --------------------------------------------------------------------------------------

def _rmsprop(ps, st):
    return torch.optim.RMSprop(ps, lr=f(st, "lr", 1e-2), alpha=f(st, "alpha", 0.99), eps=f(st, "eps", 1e-8),
                               weight_decay=f(st, "weight_decay", 0.0), momentum=f(st, "momentum", 0.0),
                               centered=b(st, "centered"), maximize=b(st, "maximize"), foreach=False)


# ---- Adamax ---------------------------------------------------------------------------------------

def _adamax(ps, st):
    return torch.optim.Adamax(ps, lr=f(st, "lr", 2e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                              eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 0.0),
                              maximize=b(st, "maximize"), foreach=False)


# ---- NAdam ----------------------------------------------------------------------------------------

def _nadam(ps, st):
    return torch.optim.NAdam(ps, lr=f(st, "lr", 2e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                             eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 0.0),
                             momentum_decay=f(st, "momentum_decay", 4e-3),
                             decoupled_weight_decay=b(st, "decoupled_weight_decay"),
                             maximize=b(st, "maximize"), foreach=False)


# ---- RAdam ----------------------------------------------------------------------------------------

def _radam(ps, st):
    return torch.optim.RAdam(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                             eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 0.0),
                             decoupled_weight_decay=b(st, "decoupled_weight_decay"),
                             maximize=b(st, "maximize"), foreach=False)


# ---- Adafactor ------------------------------------------------------------------------------------

def _adafactor(ps, st):
    # eps1 absent means the torch default None: the parameter dtype's machine epsilon (2**-23 for float32).
    return torch.optim.Adafactor(ps, lr=f(st, "lr", 1e-2), beta2_decay=f(st, "beta2_decay", -0.8),
                                 eps=(f(st, "eps1", None), f(st, "eps2", 1e-3)), d=f(st, "d", 1.0),
                                 weight_decay=f(st, "weight_decay", 0.0), maximize=b(st, "maximize"),
                                 foreach=False)


ADAFACTOR_EPS1_NOTE = "eps1 unset: torch's default None, i.e. float32 machine epsilon 2^-23 (1.1920929e-07)."


# ---- Rprop ----------------------------------------------------------------------------------------

def _rprop(ps, st):
    return torch.optim.Rprop(ps, lr=f(st, "lr", 1e-2), etas=(f(st, "etaminus", 0.5), f(st, "etaplus", 1.2)),
                             step_sizes=(f(st, "step_size_min", 1e-6), f(st, "step_size_max", 50.0)),
                             maximize=b(st, "maximize"), foreach=False)


# ---- Muon -----------------------------------------------------------------------------------------

def _newton_schulz_f32(grad, ns_coefficients, ns_steps, eps, dtype=torch.float32):
    """torch's Muon orthogonalisation, step for step, but in `dtype` instead of bfloat16.

    Same order of operations as torch.optim._muon._zeropower_via_newtonschulz: work on the wide
    orientation (transpose when rows > cols), divide by the Frobenius norm clamped below at eps, then
    ns_steps times: A = X Xᵀ; B = b·A + c·(A A); X = a·X + B X; transpose back.
    """
    a, b_, c = ns_coefficients
    x = grad.to(dtype)
    tall = grad.size(0) > grad.size(1)
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        poly = torch.addmm(gram, gram, gram, beta=b_, alpha=c)
        x = torch.addmm(x, poly, x, beta=a)
    if tall:
        x = x.T
    return x


@contextlib.contextmanager
def _ns_swapped(fn):
    saved = _muon_module._zeropower_via_newtonschulz
    _muon_module._zeropower_via_newtonschulz = fn
    try:
        yield
    finally:
        _muon_module._zeropower_via_newtonschulz = saved


class _MuonF32(torch.optim.Muon):
    """torch.optim.Muon whose step() runs with the float32 Newton-Schulz swapped in (only during step)."""

    ns = staticmethod(_newton_schulz_f32)

    def step(self, closure=None):
        with _ns_swapped(self.ns):
            return super().step(closure)


MUON_DEFAULT_NS = (3.4445, -4.7750, 2.0315)


def _muon(ps, st, cls=_MuonF32):
    return cls(ps, lr=f(st, "lr", 1e-3), weight_decay=f(st, "weight_decay", 0.1), momentum=f(st, "momentum", 0.95),
               nesterov=b(st, "nesterov", True),
               ns_coefficients=(f(st, "ns_a", MUON_DEFAULT_NS[0]), f(st, "ns_b", MUON_DEFAULT_NS[1]),
                                f(st, "ns_c", MUON_DEFAULT_NS[2])),
               eps=f(st, "eps", 1e-7), ns_steps=i(st, "ns_steps", 5), adjust_lr_fn=s(st, "adjust_lr_fn", None))


# Tolerance, measured on these six trajectories (the recorded gradients replayed for 150 steps, max over cases):
#   the whole step in float64 (buffer, NS and parameter) vs this float32 run: max |dx| 4.9e-6; at rtol 1e-5 it
#     needs atol 4.0e-6 (default-least_squares_tall: its NS input has singular values down to 1e-4 of the
#     largest, which the quintic's slope of ~490 near zero amplifies);
#   float64 NS only (buffer and parameter float32 as here): max |dx| 6.6e-7, needs atol 2.4e-7;
#   a float32 replay rounding the momentum lerp separately (no fused multiply-add, unlike torch's CPU lerp) and
#     summing the products sequentially: needs atol 1.2e-6; with a fused lerp: 4.2e-7.
# The tolerance is the float32-vs-float64 figure: rtol 1e-5, atol 4e-6.
MUON_RTOL, MUON_ATOL = 1e-5, 4e-6
MUON_NOTE = ("Reference patched: torch.optim.Muon's Newton-Schulz (torch/optim/_muon.py, "
             "_zeropower_via_newtonschulz) casts to bfloat16 on CPU; these fixtures swap in the same iteration "
             "(same transposition of tall matrices, Frobenius normalisation clamped at eps, "
             "A = X X^T, B = b A + c A A, X = a X + B X) carried out in float32. Tolerance rtol 1e-5 / atol 4e-6: "
             "replaying the same gradients with the whole step in float64 moves x by up to 4.9e-6 and needs "
             "atol 4.0e-6 at rtol 1e-5 (small singular values of the NS input are amplified by the quintic); "
             "float64 NS alone needs 2.4e-7, a float32 replay without a fused momentum lerp 1.2e-6. "
             "Matrices only (Muon takes 2-D parameters).")


# ---- cases ----------------------------------------------------------------------------------------

CASES = [
    # AdamW
    Case("adamw", "default", {"lr": "0.01"}, _adamw),
    Case("adamw", "amsgrad", {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "eps": "1e-6",
                              "weight_decay": "0.1", "amsgrad": "true"}, _adamw),
    Case("adamw", "maximize", {"lr": "0.005", "weight_decay": "0", "amsgrad": "false", "maximize": "true"},
         _adamw),

    # Adagrad
    Case("adagrad", "default", {"lr": "0.1"}, _adagrad),
    Case("adagrad", "varied", {"lr": "0.5", "lr_decay": "0.01", "initial_accumulator_value": "0.1",
                               "weight_decay": "0.01", "eps": "1e-6"}, _adagrad),
    Case("adagrad", "maximize", {"lr": "0.05", "eps": "1e-3", "maximize": "true"}, _adagrad),

    # RMSprop
    Case("rmsprop", "default", {"lr": "0.01"}, _rmsprop),
    # Centered + momentum is badly conditioned in float32 when g/avg gets large (eps 1e-6, momentum 0.9: the
    # buffer grows to ~20 and later cancels to ~0.1 while keeping its ~1e-5 absolute rounding error), so this
    # case keeps eps at 1e-3 and momentum at 0.7, where an independent float32 replay stays within tolerance.
    Case("rmsprop", "centered-momentum", {"lr": "0.002", "alpha": "0.95", "eps": "1e-3", "weight_decay": "0.01",
                                          "momentum": "0.7", "centered": "true"}, _rmsprop),
    Case("rmsprop", "maximize", {"lr": "0.003", "alpha": "0.95", "momentum": "0.5", "maximize": "true"},
         _rmsprop),

    # Adamax
    Case("adamax", "default", {"lr": "0.02"}, _adamax),
    Case("adamax", "varied", {"lr": "0.05", "beta1": "0.8", "beta2": "0.99", "eps": "1e-4",
                              "weight_decay": "0.05"}, _adamax),
    Case("adamax", "maximize", {"lr": "0.005", "maximize": "true"}, _adamax),

    # NAdam
    Case("nadam", "default", {"lr": "0.01"}, _nadam),
    Case("nadam", "coupled-decay", {"lr": "0.02", "beta1": "0.85", "beta2": "0.99", "eps": "1e-6",
                                    "weight_decay": "0.02", "momentum_decay": "0.01",
                                    "decoupled_weight_decay": "false"}, _nadam),
    Case("nadam", "decoupled-maximize", {"lr": "0.005", "weight_decay": "0.1", "momentum_decay": "0.002",
                                         "decoupled_weight_decay": "true", "maximize": "true"}, _nadam),

    # RAdam. beta2 0.999: steps 1-5 have rho_t <= 5 (plain bias-corrected momentum step, lr times the raw
    # gradient scale), steps 6+ are rectified. That warm-up diverges on Rosenbrock (gradient ~200 at the start)
    # at the lr the other problems need, so Rosenbrock gets its own smaller-lr case next to each one.
    Case("radam", "default", {"lr": "0.01"}, _radam, problems=NOT_ROSENBROCK),
    Case("radam", "default-lr1e-3", {"lr": "0.001"}, _radam, problems=["rosenbrock"]),
    Case("radam", "coupled-decay", {"lr": "0.02", "beta1": "0.8", "beta2": "0.9", "eps": "1e-6",
                                    "weight_decay": "0.02", "decoupled_weight_decay": "false"}, _radam,
         problems=NOT_ROSENBROCK),
    Case("radam", "coupled-decay-lr5e-3", {"lr": "0.005", "beta1": "0.8", "beta2": "0.9", "eps": "1e-6",
                                           "weight_decay": "0.02", "decoupled_weight_decay": "false"}, _radam,
         problems=["rosenbrock"]),
    Case("radam", "decoupled-maximize", {"lr": "0.005", "weight_decay": "0.1", "decoupled_weight_decay": "true",
                                         "maximize": "true"}, _radam, problems=NOT_ROSENBROCK),
    Case("radam", "decoupled-maximize-lr2e-4", {"lr": "0.0002", "weight_decay": "0.1",
                                                "decoupled_weight_decay": "true", "maximize": "true"}, _radam,
         problems=["rosenbrock"]),
    Case("radam", "never-rectified", {"lr": "0.005", "beta2": "0.6"}, _radam,
         note="beta2 0.6: rho_inf = 4, so rho_t <= 5 at every step and the update is always the "
              "un-rectified bias-corrected momentum step."),

    # Adafactor (matrices: factored row_var [rows,1] / col_var [1,cols]; 2-D functions: unfactored variance)
    Case("adafactor", "default", {"lr": "0.01"}, _adafactor, note=ADAFACTOR_EPS1_NOTE),
    Case("adafactor", "varied", {"lr": "0.03", "beta2_decay": "-0.5", "eps1": "0.01", "eps2": "0.5", "d": "2",
                                 "weight_decay": "0.05"}, _adafactor),
    Case("adafactor", "maximize", {"lr": "0.005", "maximize": "true"}, _adafactor, note=ADAFACTOR_EPS1_NOTE),

    # Rprop
    Case("rprop", "default", {"lr": "0.01"}, _rprop),
    Case("rprop", "varied", {"lr": "0.05", "etaminus": "0.3", "etaplus": "1.5", "step_size_min": "1e-4",
                             "step_size_max": "0.5"}, _rprop),
    Case("rprop", "maximize", {"lr": "0.001", "step_size_max": "0.05", "maximize": "true"}, _rprop),
]

MUON_CASES = [
    ("default", {"lr": "0.02"}),
    ("plain-match-rms", {"lr": "0.01", "momentum": "0.9", "nesterov": "false", "adjust_lr_fn": "match_rms_adamw",
                         "weight_decay": "0"}),
    ("ns-coefficients", {"lr": "0.02", "weight_decay": "0.05", "momentum": "0.8", "nesterov": "true",
                         "adjust_lr_fn": "original", "ns_steps": "8", "ns_a": "1.875", "ns_b": "-1.25",
                         "ns_c": "0.375", "eps": "1e-5"}),
]

CASES += [Case("muon", name, st, _muon, problems=MATRICES, rtol=MUON_RTOL, atol=MUON_ATOL, note=MUON_NOTE)
          for name, st in MUON_CASES]
