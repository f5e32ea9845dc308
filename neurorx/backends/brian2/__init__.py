"""The ``"brian2"`` backend: a :class:`~neurorx.network.RateNetwork` run as a continuous-time SDE in Brian2.

:mod:`~neurorx.backends.brian2.assembly` builds the network (:func:`build_network`), :mod:`~.codegen` sets
Brian2's code generation for one call (:func:`brian2_prefs`) and compiles, :mod:`~.monitors` records the
state, :mod:`~.run` runs the phases (:func:`simulate`) and registers the backend. The older module name
``neurorx.backends.brian2_backend`` is the same :mod:`~.run` module.
"""

from neurorx.backends.brian2.assembly import COUPLINGS, build_network, resolve_coupling
from neurorx.backends.brian2.codegen import TARGETS, brian2_prefs, compile_network, euler_sorted_draws
from neurorx.backends.brian2.run import Brian2Backend, simulate

__all__ = ["COUPLINGS", "TARGETS", "Brian2Backend", "brian2_prefs", "build_network", "compile_network",
           "euler_sorted_draws", "resolve_coupling", "simulate"]
