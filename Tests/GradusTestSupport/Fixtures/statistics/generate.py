"""Golden values for Gradus's Welch t-test and regularized incomplete beta function.

Run: python3 Tests/GradusTestSupport/Fixtures/statistics/generate.py  (needs scipy; tested with 1.17.1)
Writes welch.json next to this script: samples with scipy.stats.ttest_ind(a, b, equal_var=False)'s
t statistic and two-sided p value (and the Welch–Satterthwaite degrees of freedom computed from
the textbook formula), and scipy.special.betainc(a, b, x) at assorted points.
"""
import json
import os

import numpy as np
import scipy
from scipy import special, stats

rng = np.random.default_rng(20261202)
cases = []
for n_a, n_b, shift, scale in [(3, 3, 0.03, 0.01), (5, 3, 0.0, 1.0), (2, 2, 1.0, 0.5), (10, 4, 0.2, 2.0),
                               (3, 8, -0.5, 0.1), (30, 30, 0.05, 1.0), (4, 4, 3.0, 0.3)]:
    a = rng.normal(0.0, 1.0 * scale, n_a).round(6)
    b = rng.normal(shift, 1.7 * scale, n_b).round(6)
    t, p = stats.ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / n_a, b.var(ddof=1) / n_b
    df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    cases.append({"a": a.tolist(), "b": b.tolist(), "t": float(t), "df": float(df), "p": float(p)})

beta = []
for a, b, x in [(0.5, 0.5, 0.3), (2.0, 3.0, 0.4), (1.5, 0.5, 0.99), (10.0, 0.5, 0.7), (0.5, 20.0, 0.01),
                (100.0, 0.5, 0.995), (3.0, 3.0, 0.5), (1.0, 1.0, 0.123)]:
    beta.append({"a": a, "b": b, "x": x, "value": float(special.betainc(a, b, x))})

out = {"generator": f"scipy {scipy.__version__}", "welch": cases, "betainc": beta}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "welch.json"), "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(cases), "Welch cases and", len(beta), "betainc values")
