"""Synthetic Recordings for the plotting tests (a module of its own: test files import it by name)."""

import numpy as np

from neurorx.recording import Recording


def synthetic_recording(backend="torch", circular=False, trials=12, active=60, quiescent=80, units=16, every=1,
                        seed=0, record_h=True):
    """A Recording built from numpy arrays: an active then a quiescent phase, decoded outputs and h.

    Spatial: positions random-walk in the 2.2 m box. Head direction: bearings random-walk on the circle.
    ``h`` is a noisy random embedding of the decoded readout, so its leading PCs carry the output.
    """
    rng = np.random.default_rng(seed)
    steps = active + quiescent
    if circular:
        theta = np.cumsum(rng.normal(0.0, 0.1, size=(trials, steps)), axis=1) + rng.uniform(-np.pi, np.pi, (trials, 1))
        decoded = (np.mod(theta + np.pi, 2 * np.pi) - np.pi)[..., None]
        features = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    else:
        pos = np.cumsum(rng.normal(0.0, 0.05, size=(trials, steps, 2)), axis=1) + rng.uniform(-0.8, 0.8, (trials, 1, 2))
        decoded = np.clip(pos, -1.1, 1.1)
        features = decoded
    embed = rng.normal(size=(features.shape[-1], units))
    h_full = np.tanh(features @ embed) + 0.05 * rng.normal(size=(trials, steps, units))
    record_index = np.arange(0, steps, every)
    phase = np.array(["active"] * active + ["quiescent"] * quiescent)
    return Recording(
        t=(np.arange(steps) + 1) * 0.02,
        phase=phase,
        phase_index=(phase == "quiescent").astype(int),
        decoded=decoded,
        states=decoded.copy(),
        inputs=np.zeros((trials, steps, 1 if circular else 2)),
        h=h_full[:, record_index] if record_h else None,
        record_index=record_index if record_h else np.zeros(0, dtype=np.int64),
        phases=[{"kind": "active", "label": "active", "start": 0, "stop": active},
                {"kind": "quiescent", "label": "quiescent", "start": active, "stop": steps}],
        meta={"backend": backend, "circular": circular, "task": "head_direction" if circular else "spatial"},
    )
