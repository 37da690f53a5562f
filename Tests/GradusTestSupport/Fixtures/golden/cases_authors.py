"""Cases for optimizers whose reference is the authors' own package (pinned in generate.REFERENCE_VERSIONS):
AdamP/SGDP (adamp), DoG/LDoG (dog-optimizer), Prodigy (prodigyopt), D-Adapt Adam (dadaptation),
schedule-free AdamW (schedulefree) and DCTAdam (dctadam).

Two extra matrix problems are registered here for AdamP/SGDP, because their projection only acts when the
gradient is (nearly) orthogonal to the weights, which plain least squares rarely gives. Both reuse the data
of `least_squares_tall` (A 12×5, B 12×4, X0 5×4, m = 12) and are scale-invariant, so every gradient is
orthogonal to the weights and the projection fires on every step:
  least_squares_rownorm:  f(W) = ½‖A·N(W) − B‖²_F / m,  N(W)[i, :] = W[i, :] / ‖W[i, :]‖₂   (each row unit)
                          → AdamP's per-row ("channel") projection fires.
  least_squares_fronorm:  f(W) = ½‖A·(W / ‖W‖_F) − B‖²_F / m                               (whole matrix unit)
                          → the per-row test fails and the whole-matrix ("layer") projection fires.
The plain least-squares problems also trigger the layer projection on a few steps (checked below: every
projection decision is kept at least 1e-3 (relative) away from its threshold so float32 rounding in
another implementation cannot flip it).
"""
import math
import sys

import torch
import torch.nn.functional as F

import generate
from generate import Case, f, b, i, s

from adamp import AdamP, SGDP
from dog import DoG, LDoG
from prodigyopt import Prodigy
from dadaptation import DAdaptAdam
from schedulefree import AdamWScheduleFree
from dctadam import DCTAdam


# ---- extra problems (AdamP / SGDP projection) ------------------------------------------------------

def _normalized_least_squares(a, b_, by_row):
    m = a.shape[0]

    def fn(w):
        n = w / w.norm(dim=1, keepdim=True) if by_row else w / w.norm()
        return 0.5 * ((a @ n - b_) ** 2).sum() / m
    return fn


_A, _B, _X0 = generate.MATRIX_DATA["least_squares_tall"]
EXTRA_PROBLEMS = {
    "least_squares_rownorm": (_normalized_least_squares(_A, _B, by_row=True), _X0),
    "least_squares_fronorm": (_normalized_least_squares(_A, _B, by_row=False), _X0),
}
# generate.py runs as __main__, so `import generate` above is a second copy of the module: register the
# problems in both (run() looks them up in the running script's PROBLEMS).
for _module in {id(m): m for m in (generate, sys.modules.get("__main__")) if m is not None}.values():
    if isinstance(getattr(_module, "PROBLEMS", None), dict):
        for _name, _problem in EXTRA_PROBLEMS.items():
            _module.PROBLEMS.setdefault(_name, _problem)

ALL = generate.FUNCTIONS + generate.MATRICES
PROJECTION = generate.MATRICES + list(EXTRA_PROBLEMS)


# Per-problem tolerances where the default (rtol 1e-5, atol 1e-6) is too tight for a float32 implementation
# that rounds differently (fused or unfused multiply-adds, another summation order, a correctly rounded sqrt:
# torch's float32 sqrt is not). Each value was measured: three such re-implementations, fed the recorded
# gradients, must pass with a 3× margin. The reason is always an entry that is a small difference of large
# terms (a running sum crossing zero), whose rounding error is relative to the terms, not to the entry.
ROUNDING_NOTE = "rtol {rtol:g}, atol {atol:g} on this problem: entries near zero carry the rounding of the larger terms that cancel in them"


def _split(make_case, problems, loose):
    """One Case for the problems at the default tolerance, one per problem listed in `loose` (problem →
    (rtol, atol)); make_case(problems, rtol, atol, note) builds each."""
    cases = []
    plain = [p for p in problems if p not in loose]
    if plain:
        cases.append(make_case(plain, 1e-5, 1e-6, ""))
    for p in problems:
        if p in loose:
            rtol, atol = loose[p]
            cases.append(make_case([p], rtol, atol, ROUNDING_NOTE.format(rtol=rtol, atol=atol)))
    return cases


def _group_of(opt, p):
    for group in opt.param_groups:
        for index, q in enumerate(group["params"]):
            if q is p:
                return group, index
    raise KeyError("parameter not in optimizer")


# ---- AdamP / SGDP -----------------------------------------------------------------------------------

def _projection_guard(delta, eps):
    """before_step hook: the reference's projection test (per row, then whole matrix) must not sit within
    1e-3 (relative) of its threshold, or a float32-faithful reimplementation could decide differently."""
    def hook(opt, p):
        if p.dim() < 2:
            return
        g = p.grad
        for rows in (p.size(0), 1):
            cos = F.cosine_similarity(g.reshape(rows, -1), p.detach().reshape(rows, -1), dim=1, eps=eps).abs().max()
            threshold = delta / math.sqrt(p.numel() // rows)
            if abs(float(cos) - threshold) < 1e-3 * threshold:
                raise SystemExit(f"AdamP/SGDP projection test within 1e-3 of its threshold ({float(cos)} vs {threshold})")
            if float(cos) < threshold:
                return
    return hook


def _adamp(ps, st):
    return AdamP(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)), eps=f(st, "eps", 1e-8),
                 weight_decay=f(st, "weight_decay", 0.0), delta=f(st, "delta", 0.1), wd_ratio=f(st, "wd_ratio", 0.1),
                 nesterov=b(st, "nesterov"))


def _adamp_case(name, settings, problems, loose=None):
    return _split(lambda ps, rtol, atol, note: Case(
        "adamp", name, settings, _adamp, problems=ps, rtol=rtol, atol=atol, note=note,
        before_step=_projection_guard(f(settings, "delta", 0.1), f(settings, "eps", 1e-8))), problems, loose or {})


def _sgdp(ps, st):
    return SGDP(ps, lr=f(st, "lr", float("nan")), momentum=f(st, "momentum", 0.0), dampening=f(st, "dampening", 0.0),
                weight_decay=f(st, "weight_decay", 0.0), nesterov=b(st, "nesterov"), eps=f(st, "eps", 1e-8),
                delta=f(st, "delta", 0.1), wd_ratio=f(st, "wd_ratio", 0.1))


def _sgdp_case(name, settings, problems, loose=None):
    return _split(lambda ps, rtol, atol, note: Case(
        "sgdp", name, settings, _sgdp, problems=ps, rtol=rtol, atol=atol, note=note,
        before_step=_projection_guard(f(settings, "delta", 0.1), f(settings, "eps", 1e-8))), problems, loose or {})


ADAMP_CASES = [
    # rosenbrock: exp_avg averages gradients of ±200 down to ~0.3 (cancellation).
    *_adamp_case("default", {"lr": "0.01"}, ALL + list(EXTRA_PROBLEMS), loose={"rosenbrock": (1e-5, 1e-5)}),
    *_adamp_case("nesterov_wd", {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "eps": "1e-6", "weight_decay": "0.1",
                                "delta": "0.2", "wd_ratio": "0.5", "nesterov": "true"}, ALL + list(EXTRA_PROBLEMS)),
    *_adamp_case("weight_decay", {"lr": "0.01", "weight_decay": "0.05"}, PROJECTION),
]

# SGDP's lr has no default (torch's `required`); rosenbrock needs a small one.
SGDP_CASES = [
    *_sgdp_case("default", {"lr": "0.01"}, ["beale", "quadratic"] + PROJECTION),
    *_sgdp_case("default_small_lr", {"lr": "0.001"}, ["rosenbrock"]),
    # rosenbrock: the momentum buffer sums gradients of alternating sign.
    *_sgdp_case("momentum_dampening_wd", {"lr": "0.001", "momentum": "0.9", "dampening": "0.1", "weight_decay": "0.01"},
                ALL + list(EXTRA_PROBLEMS), loose={"rosenbrock": (3e-5, 1e-5)}),
    *_sgdp_case("nesterov_wd", {"lr": "0.001", "momentum": "0.8", "nesterov": "true", "weight_decay": "0.05",
                               "eps": "1e-6", "delta": "0.2", "wd_ratio": "0.5"}, ALL + list(EXTRA_PROBLEMS)),
]


# ---- DoG / LDoG -------------------------------------------------------------------------------------

def _dog(cls):
    def make(ps, st):
        init_eta = f(st, "init_eta", None)
        return cls(ps, reps_rel=f(st, "reps_rel", 1e-6), lr=f(st, "lr", 1.0), weight_decay=f(st, "weight_decay", 0.0),
                   eps=f(st, "eps", 1e-8), init_eta=init_eta)
    return make


def _dog_state(opt, p):
    """DoG keeps everything in the parameter group: the start copy (`init_buffer`, one per parameter),
    `rbar`, `G` (0-d for DoG, one entry per parameter for LDoG) and the step sizes `eta` (one per parameter;
    recomputed from rbar and G every step — a cache, recorded because it is the step size actually used)."""
    group, index = _group_of(opt, p)

    def per_param(value):
        return value[index] if value.dim() == 1 else value
    # `G` is recorded as `g_sum`: Gradus slot names are lowercase identifiers.
    return {"init_buffer": group["init_buffer"][index], "rbar": per_param(group["rbar"]), "g_sum": per_param(group["G"]),
            "eta": group["eta"][index]}


def _dog_cases(optimizer, cls):
    make = _dog(cls)

    def case(name, settings, loose=None):
        return _split(lambda ps, rtol, atol, note: Case(optimizer, name, settings, make, problems=ps, state=_dog_state,
                                                        rtol=rtol, atol=atol, note=note), ALL, loose or {})
    return [
        *case("default", {}),
        *case("reps_rel", {"reps_rel": "0.001"}),
        # quadratic / wide: entries of x pass near zero late in the run.
        *case("init_eta_wd", {"lr": "0.8", "init_eta": "0.001", "weight_decay": "0.01", "eps": "1e-6"},
              loose={"quadratic": (1e-5, 3e-6), "least_squares_wide": (1e-5, 1e-5)}),
    ]


# ---- Prodigy ----------------------------------------------------------------------------------------

def _prodigy(ps, st):
    beta3 = f(st, "beta3", None)
    return Prodigy(ps, lr=f(st, "lr", 1.0), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)), beta3=beta3,
                   eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 0.0), decouple=b(st, "decouple", True),
                   use_bias_correction=b(st, "use_bias_correction"), safeguard_warmup=b(st, "safeguard_warmup"),
                   d0=f(st, "d0", 1e-6), d_coef=f(st, "d_coef", 1.0), growth_rate=f(st, "growth_rate", float("inf")),
                   fsdp_in_use=False, slice_p=i(st, "slice_p", 1))


def _prodigy_state(opt, p):
    """Per-parameter state plus the group's running values (d, d_max, d_numerator, k) and the per-step
    d_denom / d_hat (recomputed every step; recorded for diagnosis). d0 is the constant hyperparameter."""
    group, _ = _group_of(opt, p)
    out = dict(opt.state[p])
    for key in ("d", "d_max", "d_numerator", "d_denom", "d_hat", "k"):
        out[key] = group[key]
    return out


# The distance estimate d is a ratio of running sums of dot products (⟨g, x0 − x⟩ and ‖s‖₁) that
# cancel and are scaled by d/d0 (up to ~1e6): float32 sums in another order than the reference's
# BLAS dot drift past 1e-5 after 15-70 steps (measured with Gradus; within 1e-3 over 150 steps).
LR_FREE_NOTE = ("d is a ratio of cancelling running sums of float32 dot products scaled by d/d0; summation-order "
                "rounding grows past 1e-5 after 15-70 steps, so the tolerance is rtol {rtol}, atol {atol}")


def _prodigy_case(name, settings, problems):
    return Case("prodigy", name, settings, _prodigy, problems=problems, state=_prodigy_state, rtol=1e-3, atol=1e-4,
                note=LR_FREE_NOTE.format(rtol=1e-3, atol=1e-4))


PRODIGY_CASES = [
    _prodigy_case("default", {}, ALL),
    _prodigy_case("bias_correction_safeguard_coupled", {
        "lr": "1", "beta1": "0.85", "beta2": "0.99", "beta3": "0.95", "eps": "1e-6", "weight_decay": "0.01",
        "decouple": "false", "use_bias_correction": "true", "safeguard_warmup": "true", "d0": "1e-5",
        "d_coef": "0.5", "growth_rate": "1.1"}, ALL),
    # slice_p = 3: s and p0 hold every third entry. Beale is left out: its start (1, 1) has ∂f/∂x = 0, so
    # the only sampled entry of the gradient is 0, d_denom stays 0 and the reference never steps.
    # d0 = 1e-3: s is scaled by d/d0; with d0 = 1e-6 it reaches 4e4 on the wide matrix and an entry of 7
    # that cancels there misses even rtol 1e-3 / atol 1e-4 in a float32 re-implementation. Rosenbrock is
    # left out too: with these settings d reaches 2.5 and the reference is thrown to (-8.7, 29.8) at step ~125.
    _prodigy_case("decoupled_wd_slice", {"weight_decay": "0.05", "d_coef": "2", "slice_p": "3", "d0": "1e-3"},
                  ["quadratic"] + generate.MATRICES),
    # beta1 = 0: no exp_avg at all; the 2-D functions cover this element-wise branch (size budget). With
    # unlimited growth, d jumps to ~0.4 within 5 steps and the reference lands on a beale point with a 3e8
    # gradient (then stalls) and drives the quadratic into subnormals; growth_rate 1.05 keeps it regular.
    _prodigy_case("no_first_moment", {"beta1": "0", "growth_rate": "1.05"}, generate.FUNCTIONS),
]


# ---- D-Adapt Adam -----------------------------------------------------------------------------------

def _dadapt(ps, st):
    return DAdaptAdam(ps, lr=f(st, "lr", 1.0), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)), eps=f(st, "eps", 1e-8),
                      weight_decay=f(st, "weight_decay", 0.0), log_every=0, decouple=b(st, "decouple"),
                      use_bias_correction=b(st, "use_bias_correction"), d0=f(st, "d0", 1e-6),
                      growth_rate=f(st, "growth_rate", float("inf")), fsdp_in_use=False)


def _dadapt_state(opt, p):
    group, _ = _group_of(opt, p)
    out = dict(opt.state[p])
    for key in ("d", "numerator_weighted", "k"):
        out[key] = group[key]
    return out


def _dadapt_case(name, settings, problems):
    return Case("dadapt_adam", name, settings, _dadapt, problems=problems, state=_dadapt_state, rtol=1e-4, atol=1e-5,
                note=LR_FREE_NOTE.format(rtol=1e-4, atol=1e-5))


DADAPT_CASES = [
    # Beale is left out at the defaults: the reference overshoots (d grows to ~0.3) and leaves the basin
    # (loss 14 → 1.2e3 at |Δx| ≈ 19).
    _dadapt_case("default", {}, ["rosenbrock", "quadratic"] + generate.MATRICES),
    _dadapt_case("coupled_wd", {"lr": "0.5", "weight_decay": "0.01"}, ALL),
    _dadapt_case("decoupled_bias_correction", {
        "beta1": "0.85", "beta2": "0.99", "eps": "1e-6", "weight_decay": "0.01", "decouple": "true",
        "use_bias_correction": "true", "d0": "1e-5", "growth_rate": "1.1"}, ALL),
]


# ---- schedule-free AdamW ----------------------------------------------------------------------------

def _schedulefree(ps, st):
    opt = AdamWScheduleFree(ps, lr=f(st, "lr", 0.0025), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                            eps=f(st, "eps", 1e-8), weight_decay=f(st, "weight_decay", 0.0),
                            warmup_steps=i(st, "warmup_steps", 0), r=f(st, "r", 0.0),
                            weight_lr_power=f(st, "weight_lr_power", 2.0), foreach=False)
    opt.train()   # the parameter holds y from here on
    return opt


def _schedulefree_state(opt, p):
    """z and exp_avg_sq, the group's k / weight_sum / lr_max / scheduled_lr, and `eval_x`: the point the
    reference's eval() puts in the parameter (x = y + (1 − 1/β1)(z − y)). The parameter is restored bit for
    bit to y afterwards, so the recorded run is the undisturbed training run: eval() then train() does not
    give y back exactly (in these cases 713 of 2250 steps differ, by up to 9e-6 relative)."""
    group, _ = _group_of(opt, p)
    out = {key: value.clone() for key, value in opt.state[p].items()}
    for key in ("k", "weight_sum", "lr_max", "scheduled_lr"):
        out[key] = group[key]
    y = p.detach().clone()
    opt.eval()
    out["eval_x"] = p.detach().clone()
    opt.train()
    with torch.no_grad():
        p.copy_(y)
    return out


def _schedulefree_case(name, settings, problems):
    return Case("schedulefree_adamw", name, settings, _schedulefree, problems=problems, state=_schedulefree_state,
                note="the parameter holds y (train mode); eval_x is the evaluation point x that eval() would give")


SCHEDULEFREE_CASES = [
    _schedulefree_case("default", {"lr": "0.02"}, ALL),
    _schedulefree_case("warmup_poly_wd", {"lr": "0.05", "beta1": "0.8", "beta2": "0.99", "eps": "1e-6",
                                          "weight_decay": "0.01", "warmup_steps": "20", "r": "0.5",
                                          "weight_lr_power": "1"}, ALL),
    _schedulefree_case("no_lr_weighting", {"lr": "0.03", "beta1": "0.95", "warmup_steps": "10",
                                           "weight_lr_power": "0"}, ALL),
]


# ---- DCTAdam ----------------------------------------------------------------------------------------
# dctadam 0.1.0 is a flat, element-wise method, not a low-rank projector: it flattens the parameter, splits it
# into blocks of block_size (the last one zero-padded), runs Adam on the orthonormal DCT-II coefficients of the
# gradient (scaled by w[k] = 1/(1 + alpha·k), k the flat coefficient index) and maps the step back with the
# inverse DCT. There is no rank, update gap, column selection or tall/wide side; any shape works, so all five
# problems run. m_hat, v_hat and w are flat vectors of numel entries.

def _dct(ps, st):
    return DCTAdam(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)), eps=f(st, "eps", 1e-8),
                   weight_decay=f(st, "weight_decay", 0.0), alpha=f(st, "alpha", 0.0), block_size=i(st, "block_size", 4096))


DCT_NOTE = ("DCT-II (orthonormal) per block computed by scipy.fftpack in float32; the transform's summation order "
            "differs between implementations, so the tolerance is rtol 1e-4 / atol 1e-5")


def _dct_case(name, settings, problems):
    return Case("dct_adam", name, settings, _dct, problems=problems, rtol=1e-4, atol=1e-5, note=DCT_NOTE)


DCT_CASES = [
    # block_size 4096 (the default) is far longer than these parameters: the zero-padded block is transformed
    # and only its first N coefficients are kept (see the report), so the update is nearly a uniform shift.
    _dct_case("default", {"lr": "0.1"}, ALL),
    # block_size 8: the 2-vectors and the 5×4 matrix (20 = 2·8 + 4) end in a zero-padded, truncated block;
    # the 4×6 matrix (24 = 3·8) splits exactly.
    _dct_case("block8_alpha_wd", {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "eps": "1e-6", "weight_decay": "0.01",
                                  "alpha": "0.1", "block_size": "8"}, ALL),
    # block_size 2 divides every size: an exact orthonormal transform per pair of entries.
    _dct_case("block2_alpha", {"lr": "0.01", "alpha": "0.5", "block_size": "2"}, ALL),
]


CASES = (ADAMP_CASES + SGDP_CASES + _dog_cases("dog", DoG) + _dog_cases("ldog", LDoG) + PRODIGY_CASES
         + DADAPT_CASES + SCHEDULEFREE_CASES + DCT_CASES)
