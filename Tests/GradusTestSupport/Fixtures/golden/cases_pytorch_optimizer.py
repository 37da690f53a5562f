"""pytorch_optimizer 4.1.0 cases (and torch_optimizer 0.3.0's Lamb).

Every pytorch_optimizer class here runs with foreach=False: the per-parameter code path, the plainest
arithmetic (the batched foreach path is not exercised). pytorch_optimizer keeps its step counter in the
parameter group (group['step']), not in the per-parameter state, so the cases whose update reads the step
record it through `state=` as the slot `step`. The optional extras that pytorch_optimizer accepts only as
loose keyword arguments (use_gc, adanorm, adanorm_r, cautious, adam_debias) are never passed: they are off,
which is the published algorithm.

No case exists for `subspace_momentum`: pytorch_optimizer 4.1.0 ships only the Subset-Norm half of SN-SM
(AdamWSN with the group option sn=True); its docstring mentions subspace momentum but the class has no
projection, rank or projection-gap option.
"""
import copy

import pytorch_optimizer as po
import pytorch_optimizer.optimizer.muon.normuon as _normuon_module
import pytorch_optimizer.optimizer.utils.matrix as _matrix_module
import torch
import torch_optimizer

from generate import Case, f, b, i, s, FUNCTIONS, MATRICES

def split(case, problems, atol, why):
    """The same case twice: `problems` with a looser absolute tolerance, the rest unchanged."""
    loose = copy.copy(case)
    loose.problems = [p for p in case.problems if p in problems]
    loose.atol = atol
    loose.note = (case.note + " " if case.note else "") + why
    case.problems = [p for p in case.problems if p not in problems]
    return [case, loose]


ROSENBROCK_ATOL = ("atol 1e-5: gradients of order 1e2 feed this run, and a moving average built from them "
                   "passes near zero, where its float32 rounding (about ulp(100)) exceeds 1e-6.")


def with_step(opt, p):
    """The per-parameter state plus the group's step counter."""
    out = dict(opt.state[p])
    out["step"] = opt.param_groups[0]["step"]
    return out


# ---- Lion -----------------------------------------------------------------------------------------

def make_lion(ps, st):
    return po.Lion(ps, lr=f(st, "lr", 1e-4), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.99)),
                   weight_decay=f(st, "weight_decay", 0.0), weight_decouple=b(st, "weight_decouple", True),
                   fixed_decay=b(st, "fixed_decay", False), maximize=b(st, "maximize"), foreach=False)


LION_NOTE = "group['step'] is counted by the reference but never read, so it is not recorded."

LION = [
    Case("lion", "default", {"lr": "0.01"}, make_lion, note=LION_NOTE),
    Case("lion", "decoupled-wd", {"lr": "0.005", "beta1": "0.8", "beta2": "0.95", "weight_decay": "0.5"},
         make_lion, note=LION_NOTE),
    Case("lion", "fixed-decay", {"lr": "0.01", "weight_decay": "0.005", "fixed_decay": "true"}, make_lion,
         note=LION_NOTE + " fixed_decay: p *= 1 - weight_decay (no lr)."),
    Case("lion", "coupled-wd-maximize",
         {"lr": "0.003", "beta1": "0.95", "beta2": "0.9", "weight_decay": "0.1", "weight_decouple": "false",
          "maximize": "true"},
         make_lion, note=LION_NOTE + " Coupled: grad += weight_decay * p after the maximize negation."),
]


# ---- AdaBelief ------------------------------------------------------------------------------------

def make_adabelief(ps, st):
    return po.AdaBelief(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                        weight_decay=f(st, "weight_decay", 0.0), weight_decouple=b(st, "weight_decouple", True),
                        fixed_decay=b(st, "fixed_decay", False), rectify=b(st, "rectify", False),
                        n_sma_threshold=i(st, "n_sma_threshold", 5),
                        degenerated_to_sgd=b(st, "degenerated_to_sgd", True), ams_bound=b(st, "ams_bound", False),
                        eps=f(st, "eps", 1e-16), maximize=b(st, "maximize"), foreach=False)


ADABELIEF = [
    Case("adabelief", "default", {"lr": "0.01"}, make_adabelief, state=with_step),
    Case("adabelief", "decoupled-wd-amsbound",
         {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.05", "ams_bound": "true",
          "eps": "1e-8"},
         make_adabelief, state=with_step),
    Case("adabelief", "rectify-sgd-warmup",
         {"lr": "0.001", "rectify": "true", "weight_decay": "0.01", "fixed_decay": "true"},
         make_adabelief, state=with_step, problems=["rosenbrock"],
         note="rectify with degenerated_to_sgd: the first steps (n_sma < n_sma_threshold) are plain "
              "momentum steps p -= lr/bc1 * m; small lr for the steep Rosenbrock start."),
    Case("adabelief", "rectify-sgd-warmup",
         {"lr": "0.01", "rectify": "true", "weight_decay": "0.01", "fixed_decay": "true"},
         make_adabelief, state=with_step, problems=["beale", "quadratic"] + MATRICES,
         note="rectify with degenerated_to_sgd: the first steps (n_sma < n_sma_threshold) are plain "
              "momentum steps p -= lr/bc1 * m."),
    Case("adabelief", "rectify-skip-coupled-maximize",
         {"lr": "0.003", "beta2": "0.99", "rectify": "true", "degenerated_to_sgd": "false",
          "n_sma_threshold": "6", "weight_decay": "0.1", "weight_decouple": "false", "maximize": "true",
          "ams_bound": "true"},
         make_adabelief, state=with_step,
         note="degenerated_to_sgd=false: no parameter change while n_sma < n_sma_threshold (the moments "
              "still update). Coupled decay: grad += weight_decay * p after the maximize negation."),
]


# ---- EXAdam ---------------------------------------------------------------------------------------

def make_exadam(ps, st):
    return po.EXAdam(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                     weight_decay=f(st, "weight_decay", 0.0), weight_decouple=b(st, "weight_decouple", True),
                     fixed_decay=b(st, "fixed_decay", False), eps=f(st, "eps", 1e-8), maximize=b(st, "maximize"),
                     foreach=False)


EXADAM = [
    Case("exadam", "default", {"lr": "0.01"}, make_exadam, state=with_step),
    Case("exadam", "decoupled-wd", {"lr": "0.005", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.1",
                                    "eps": "1e-6"}, make_exadam, state=with_step),
    Case("exadam", "fixed-decay", {"lr": "0.01", "weight_decay": "0.002", "fixed_decay": "true"}, make_exadam,
         state=with_step),
    Case("exadam", "coupled-wd-maximize", {"lr": "0.003", "weight_decay": "0.1", "weight_decouple": "false",
                                           "maximize": "true"}, make_exadam, state=with_step),
]


# ---- NorMuon --------------------------------------------------------------------------------------

def _newton_schulz_in_input_precision(g, *args, **kwargs):
    kwargs["dtype"] = g.dtype
    return _matrix_module.zero_power_via_newton_schulz_5(g, *args, **kwargs)


# NorMuon calls the Newton-Schulz helper with its default dtype, bfloat16. Swap the name NorMuon looks up
# (only in NorMuon's own module) for one that iterates in the input's precision (float32 here), so the
# fixture is a float32 reference.
_normuon_module.zero_power_via_newton_schulz_5 = _newton_schulz_in_input_precision


def make_normuon(ps, st):
    return po.NorMuon([{"params": ps, "use_muon": True}], lr=f(st, "lr", 2e-2), momentum=f(st, "momentum", 0.95),
                      beta2=f(st, "beta2", 0.95), weight_decay=f(st, "weight_decay", 0.0),
                      weight_decouple=b(st, "weight_decouple", True), nesterov=b(st, "nesterov", True),
                      ns_steps=i(st, "ns_steps", 5),
                      ns_coeffs=(f(st, "ns_a", 3.4445), f(st, "ns_b", -4.7750), f(st, "ns_c", 2.0315)),
                      update_scale=s(st, "update_scale", "preserve_norm"),
                      use_adjusted_lr=b(st, "use_adjusted_lr", False), eps=f(st, "eps", 1e-10),
                      maximize=b(st, "maximize"), foreach=False)


NORMUON_NOTE = ("Matrices only. Newton-Schulz runs in float32 here (the reference's bfloat16 default is "
                "monkeypatched to float32); its matmul order makes results order-sensitive, hence the looser "
                "tolerance (a float64 Newton-Schulz replay of these gradients moves x by up to ~2e-6). "
                "group['step'] is never read by the Muon path and is not recorded.")

NORMUON = [
    Case("normuon", "default", {"lr": "0.02"}, make_normuon, problems=MATRICES, rtol=1e-4, atol=1e-5,
         note=NORMUON_NOTE),
    Case("normuon", "heavy-ball-decoupled-wd-adjusted-lr",
         {"lr": "0.01", "momentum": "0.9", "beta2": "0.99", "nesterov": "false", "weight_decay": "0.1",
          "use_adjusted_lr": "true", "eps": "1e-8", "ns_steps": "6"},
         make_normuon, problems=MATRICES, rtol=1e-4, atol=1e-5, note=NORMUON_NOTE),
    Case("normuon", "match-rms-coupled-maximize",
         {"lr": "0.005", "update_scale": "match_rms", "weight_decay": "0.05", "weight_decouple": "false",
          "maximize": "true", "ns_a": "3.0", "ns_b": "-3.2", "ns_c": "1.2"},
         make_normuon, problems=MATRICES, rtol=1e-4, atol=1e-5, note=NORMUON_NOTE),
]


# ---- Conda ----------------------------------------------------------------------------------------

def make_conda(ps, st):
    return po.Conda(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                    weight_decay=f(st, "weight_decay", 0.0), update_proj_gap=i(st, "update_proj_gap", 2000),
                    scale=f(st, "scale", 1.0), projection_type=s(st, "projection_type", "std"),
                    eps=f(st, "eps", 1e-8), maximize=b(st, "maximize"), foreach=False)


def _canonical_signs(vectors, dim):
    """Flip each singular vector (a slice along `dim`) so that its largest-magnitude entry is positive."""
    idx = vectors.abs().argmax(dim=dim, keepdim=True)
    signs = torch.sign(torch.gather(vectors, dim, idx))
    signs[signs == 0] = 1
    return vectors * signs


def conda_state(opt, p):
    out = with_step(opt, p)
    projector = out.pop("projector", None)
    if projector is not None:
        tall = p.shape[0] >= p.shape[1]
        kind = projector.projection_type
        right = {"std": tall, "reverse_std": not tall, "right": True, "left": False}[kind]
        # A right projection holds V^T (singular vectors are its rows), a left one U (its columns).
        out["projector"] = _canonical_signs(projector.ortho_matrix, dim=1 if right else 0)
    return out


CONDA_NOTE = ("Matrices only. The projector is SVD-based (torch.linalg.svd, LAPACK float32); the slot "
              "`projector` is projector.ortho_matrix with each singular vector's sign flipped so its "
              "largest-magnitude entry is positive (the update itself does not depend on these signs). "
              "Looser tolerance: SVD order sensitivity (a float64-SVD replay of these gradients moves x by "
              "up to ~5e-6).")

CONDA = [
    Case("conda", "default", {"lr": "0.01", "update_proj_gap": "10"}, make_conda, state=conda_state,
         problems=MATRICES, rtol=1e-4, atol=1e-5, note=CONDA_NOTE),
    Case("conda", "wd-betas-scale-gap25",
         {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.1", "update_proj_gap": "25",
          "scale": "0.5", "eps": "1e-6"},
         make_conda, state=conda_state, problems=MATRICES, rtol=1e-4, atol=1e-5, note=CONDA_NOTE),
    Case("conda", "reverse-std-maximize",
         {"lr": "0.003", "update_proj_gap": "15", "projection_type": "reverse_std", "maximize": "true"},
         make_conda, state=conda_state, problems=MATRICES, rtol=1e-4, atol=1e-5, note=CONDA_NOTE),
]


# ---- Adan -----------------------------------------------------------------------------------------

def negate_gradient(opt, p):
    """before_step hook: the reference minimizes −f (recorded gradients stay those of f)."""
    p.grad.neg_()


def make_adan(ps, st):
    return po.Adan(ps, lr=f(st, "lr", 1e-3),
                   betas=(f(st, "beta1", 0.98), f(st, "beta2", 0.92), f(st, "beta3", 0.99)),
                   weight_decay=f(st, "weight_decay", 0.0), weight_decouple=b(st, "weight_decouple", False),
                   max_grad_norm=f(st, "max_grad_norm", 0.0), eps=f(st, "eps", 1e-8), maximize=b(st, "maximize"),
                   foreach=False)


ADAN = [
    Case("adan", "default", {"lr": "0.01"}, make_adan, state=with_step),
    *split(Case("adan", "proximal-wd-clip",
                {"lr": "0.02", "beta1": "0.9", "beta2": "0.9", "beta3": "0.95", "weight_decay": "0.1",
                 "max_grad_norm": "1.0", "eps": "1e-6"},
                make_adan, state=with_step), ["rosenbrock"], 1e-5, ROSENBROCK_ATOL),
    # maximize as minimize(−f): the reference runs with maximize off on the negated gradient (its own
    # maximize initialises previous_grad before negating, so its first difference would be −2g, not 0).
    Case("adan", "decoupled-wd-maximize",
         {"lr": "0.003", "weight_decay": "0.1", "weight_decouple": "true", "maximize": "true"},
         lambda ps, st: make_adan(ps, {k: v for k, v in st.items() if k != "maximize"}), state=with_step,
         before_step=negate_gradient,
         note="maximize = minimize(-f): the reference ran with maximize off on the negated gradient, because "
              "pytorch_optimizer's own maximize sets previous_grad before negating (first difference -2g instead of 0)."),
]


# ---- LARS -----------------------------------------------------------------------------------------

def make_lars(ps, st):
    return po.LARS(ps, lr=f(st, "lr", 1e-3), weight_decay=f(st, "weight_decay", 0.0),
                   momentum=f(st, "momentum", 0.9), dampening=f(st, "dampening", 0.0),
                   trust_coefficient=f(st, "trust_coefficient", 1e-3), nesterov=b(st, "nesterov", False),
                   maximize=b(st, "maximize"), foreach=False)


LARS_NOTE = ("group['step'] is counted but never read, so it is not recorded. The trust ratio and the weight "
             "decay apply only to parameters with ndim > 1 (the matrices); 2-vectors get plain momentum SGD.")

LARS = [
    Case("lars", "default", {"lr": "1.0"}, make_lars, problems=MATRICES, note=LARS_NOTE),
    Case("lars", "default", {"lr": "0.001"}, make_lars, problems=FUNCTIONS, atol=1e-5,
         note=LARS_NOTE + " " + ROSENBROCK_ATOL),
    Case("lars", "nesterov-wd-dampening",
         {"lr": "0.5", "momentum": "0.8", "dampening": "0.1", "nesterov": "true", "weight_decay": "0.01",
          "trust_coefficient": "0.005"},
         make_lars, problems=MATRICES, note=LARS_NOTE),
    Case("lars", "nesterov-wd-dampening",
         {"lr": "0.0005", "momentum": "0.8", "dampening": "0.1", "nesterov": "true", "weight_decay": "0.01",
          "trust_coefficient": "0.005"},
         make_lars, problems=FUNCTIONS, atol=1e-5, note=LARS_NOTE + " " + ROSENBROCK_ATOL),
    Case("lars", "no-momentum-maximize", {"lr": "2.0", "momentum": "0", "weight_decay": "0.05",
                                          "maximize": "true"},
         make_lars, problems=MATRICES, note=LARS_NOTE + " momentum=0: no momentum_buffer slot."),
]


# ---- AdamWSN (Subset-Norm) ------------------------------------------------------------------------

def make_subset_norm(ps, st):
    return po.AdamWSN(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                      weight_decay=f(st, "weight_decay", 0.0), weight_decouple=b(st, "weight_decouple", True),
                      fixed_decay=b(st, "fixed_decay", False), subset_size=i(st, "subset_size", -1),
                      eps=f(st, "eps", 1e-8), maximize=b(st, "maximize"), foreach=False, sn=True)


SN_NOTE = ("AdamWSN with the group option sn=True (always on for this Gradus optimizer). exp_avg_sq is "
           "[numel/subset, 1] over contiguous row-major chunks of the flattened parameter; `subset_size` is the "
           "chosen chunk length (an integer, recorded as a number, constant after step 1).")

SUBSET_NORM = [
    Case("subset_norm", "default", {"lr": "0.01"}, make_subset_norm, state=with_step, note=SN_NOTE),
    Case("subset_norm", "subset6-decoupled-wd",
         {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.1", "subset_size": "6",
          "eps": "1e-6"},
         make_subset_norm, state=with_step, note=SN_NOTE),
    Case("subset_norm", "subset-2-fixed-decay", {"lr": "0.01", "subset_size": "-2", "weight_decay": "0.002",
                                                 "fixed_decay": "true"},
         make_subset_norm, state=with_step, problems=MATRICES,
         note=SN_NOTE + " subset_size=-2: target chunk int(sqrt(numel)/2)."),
    # Gradus's subset_norm has no weight_decouple: pytorch_optimizer adds the coupled decay to the
    # gradient after the update, which makes weight_decouple=false a no-op; only decoupled decay is offered.
    Case("subset_norm", "decoupled-wd-maximize",
         {"lr": "0.003", "weight_decay": "0.1", "maximize": "true"},
         make_subset_norm, state=with_step,
         note=SN_NOTE + " Decay is decoupled only (the reference's weight_decouple=false is a no-op, so Gradus omits it)."),
]


# ---- LAMB (torch_optimizer) -----------------------------------------------------------------------

def make_lamb(ps, st):
    return torch_optimizer.Lamb(ps, lr=f(st, "lr", 1e-3), betas=(f(st, "beta1", 0.9), f(st, "beta2", 0.999)),
                                eps=f(st, "eps", 1e-6), weight_decay=f(st, "weight_decay", 0.0),
                                clamp_value=f(st, "clamp_value", 10.0), adam=b(st, "adam", False),
                                debias=b(st, "debias", False))


LAMB_SKIP = ("weight_norm", "adam_norm", "trust_ratio")
LAMB_NOTE = ("torch_optimizer.Lamb. weight_norm, adam_norm and trust_ratio are diagnostics the reference "
             "stores but recomputes every step; not recorded.")

LAMB = [
    Case("lamb", "default", {"lr": "0.01"}, make_lamb, skip=LAMB_SKIP, note=LAMB_NOTE),
    Case("lamb", "debias-wd-clamp",
         {"lr": "0.02", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.05", "clamp_value": "1.0",
          "debias": "true", "eps": "1e-8"},
         make_lamb, skip=LAMB_SKIP, note=LAMB_NOTE),
    *split(Case("lamb", "adam-debias", {"lr": "0.01", "adam": "true", "debias": "true", "weight_decay": "0.01"},
                make_lamb, skip=LAMB_SKIP, note=LAMB_NOTE + " adam=true: trust ratio forced to 1."),
           ["rosenbrock"], 1e-5, ROSENBROCK_ATOL),
]


CASES = LION + ADABELIEF + EXADAM + NORMUON + CONDA + ADAN + LARS + SUBSET_NORM + LAMB
