"""The floor under a protocol step: the work no backend's step can skip, timed alone (shared by the benchmarks).

Imported by ``protocol_speed.py`` and ``backend_dtype_speed.py`` (run as scripts from this folder).
"""

import time

import numpy as np


def best_ms(fn, number, repeat=7):
    """Best of ``repeat`` timings of ``number`` calls of ``fn``, in ms per call (a floor, not a typical time)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e3


def matmul_floor(net, trials, steps=40, dtype="float64", draws="brian2"):
    """Per-step ms of the work no matmul-coupling step can skip, in ``dtype``.

    The coupling product ``(B, N) @ W.T``, the readout product of the protocol layer (timed in bulk over
    ``steps`` steps, as the protocol does it) and ``B*N`` Gaussian draws: ``draws="brian2"`` times Brian2's
    cython ``randn`` source (numpy's legacy generator, float64 whatever the run's dtype), ``draws="dtype"``
    numpy's ``Generator.standard_normal`` writing ``dtype`` numbers (the cheapest draw in that dtype).
    ``"total"`` is their sum; ``"<dtype> GFLOP/s"`` the rate of the two products.
    """
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(0)
    h = rng.normal(size=(trials, net.n_rec)).astype(dtype)
    w_t = np.ascontiguousarray(np.asarray(net.weights["w_rec"]).T, dtype=dtype)
    out = np.empty_like(h)
    hs = rng.normal(size=(trials, steps, net.n_rec)).astype(dtype)
    if draws == "brian2":
        def draw():
            return np.random.randn(trials * net.n_rec)  # noqa: NPY002 (Brian2's source)
    elif draws == "dtype":
        gen, buf = np.random.default_rng(1), np.empty(trials * net.n_rec, dtype=dtype)

        def draw():
            return gen.standard_normal(out=buf, dtype=dtype)
    else:
        raise ValueError(f"draws must be 'brian2' or 'dtype'; got {draws!r}")
    floor = {
        "coupling product": best_ms(lambda: np.matmul(h, w_t, out=out), 200),
        "readout product": best_ms(lambda: net.readout(hs), 5) / steps,
        "gaussian draws": best_ms(draw, 200),
    }
    n_out = np.asarray(net.weights["w_out"]).shape[0]
    flops = 2 * trials * net.n_rec * (net.n_rec + n_out)
    floor["total"] = floor["coupling product"] + floor["readout product"] + floor["gaussian draws"]
    floor[f"{dtype.name} GFLOP/s"] = flops / (floor["coupling product"] + floor["readout product"]) / 1e6
    return floor
