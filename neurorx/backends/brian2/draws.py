"""The Gaussian draws of a Brian2 rate network: one numpy ``Generator`` call per noise type and step.

Brian2's ``xi`` draws one float64 number per neuron through a generated function call that refills a buffer
from numpy's legacy ``RandomState`` (the polar method). Here the equations read a per-neuron variable
``z_<prefix>`` instead of ``xi_<prefix>``, and a network operation fills it at the start of every step with
``Generator.standard_normal`` (the ziggurat) in float64, in place (a float32 group: drawn in float64 and
rounded into the float32 variable, so that a float32 run follows the noise path of the float64 run with the
same seed): :func:`buffered_equations` rewrites the equations, :class:`GaussianDraws` fills the variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

__all__ = ["GaussianDraws", "buffered_equations", "draw_variable"]

_XI = re.compile(r"\bxi_(\w+)")


def draw_variable(prefix: str) -> str:
    """The variable holding the standard normal draws of the noise terms named ``prefix`` (``"white_"``)."""
    return f"z_{prefix}"


def buffered_equations(equations: str) -> tuple[str, dict[str, str]]:
    """``equations`` with every ``xi_<prefix>`` replaced by ``z_<prefix>*dt**-0.5``, and the ``z`` variables.

    Returns
    -------
    equations : str
        The rewritten equations, with one parameter ``z_<prefix> : 1`` per replaced ``xi``.
    variables : dict
        ``prefix -> z variable``.

    Notes
    -----
    Brian2's ``euler`` step of :math:`dX = f\\,dt + g\\,\\xi` adds :math:`g\\sqrt{\\Delta t}\\,\\xi_n`; with
    :math:`\\xi` replaced by the deterministic term :math:`z_n\\Delta t^{-1/2}` (:math:`z_n \\sim \\mathcal N(0, 1)`,
    drawn before the step) it adds :math:`\\Delta t\\,g\\,z_n\\Delta t^{-1/2} = g\\sqrt{\\Delta t}\\,z_n`: the same
    increment, up to rounding, for every stochastic term of the equations (the state's and an OU process's).
    """
    prefixes = sorted(set(_XI.findall(equations)))
    out = _XI.sub(lambda m: f"({draw_variable(m.group(1))}*dt**-0.5)", equations)
    variables = {p: draw_variable(p) for p in prefixes}
    out += "".join(f"\n{v} : 1" for v in variables.values())
    return out, variables


class GaussianDraws:
    """Standard normal draws for the ``z`` variables of some groups, refreshed once per step (call it).

    Parameters
    ----------
    groups : iterable of NeuronGroup
        The groups whose ``z`` variables are filled.
    variables : dict
        ``prefix -> z variable`` (:func:`buffered_equations`).
    rng : numpy.random.Generator
        The generator; :meth:`reseed` replaces it.

    Only the active prefixes (:attr:`active`, all by default) are drawn: an inactive noise type multiplies its
    ``z`` by a zero amplitude, and its ``z`` is set to zero when it is switched off.
    """

    def __init__(self, groups: Iterable, variables: dict[str, str], rng: np.random.Generator):
        self.views = {p: [g.variables[v].get_value() for g in groups] for p, v in variables.items()}
        # float32 variables get float64 draws rounded into them (through one reused buffer per variable)
        self.scratch = {id(v): np.empty(v.shape) for views in self.views.values() for v in views
                        if v.dtype != np.float64}
        self.rng = rng
        self.active = set(self.views)

    def reseed(self, rng: np.random.Generator) -> None:
        """Draw from ``rng`` from now on."""
        self.rng = rng

    def set_active(self, prefixes: Iterable[str]) -> None:
        """Draw for ``prefixes`` only; zero the ``z`` of the others."""
        self.active = set(prefixes) & set(self.views)
        for p, views in self.views.items():
            if p not in self.active:
                for v in views:
                    v[:] = 0

    def __call__(self) -> None:
        for p in sorted(self.active):
            for v in self.views[p]:
                buf = self.scratch.get(id(v))
                if buf is None:
                    self.rng.standard_normal(out=v)
                else:
                    self.rng.standard_normal(out=buf)
                    v[:] = buf
