# numpy's side of the PSI comparison (docs/monitoring.md), shared by test/unit/drift.test.ts
# and bench/drift.mjs: Sturges bins over both sides, empty bins floored.
import numpy as np


def psi(a, b):
    edges = np.histogram_bin_edges(np.concatenate([a, b]), 'sturges')
    r = np.histogram(a, edges)[0] / len(a)
    c = np.histogram(b, edges)[0] / len(b)

    def floor(s):
        m = s[s > 0].min()
        return np.where(s == 0, m / 1e6 if m <= 1e-4 else 1e-4, s)

    r, c = floor(r), floor(c)
    return float(np.sum((r - c) * np.log(r / c)))
