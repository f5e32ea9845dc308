"""Protocols: sequences of phases (active behaviour, quiescence, ...) run on any backend.

>>> protocol = Protocol([Active(steps=100), Quiescent(steps=1000)])       # doctest: +SKIP
>>> rec = protocol.run(net, backend="brian2", trials=200, seed=0)         # doctest: +SKIP

The phases live in :mod:`neurorx.phases` (registered in :data:`neurorx.PHASES`), the runner in
:mod:`neurorx.protocol_run` and the hooks in :mod:`neurorx.hooks`; this module gathers their public names.
"""

from neurorx.hooks import Hook
from neurorx.phases import PHASES, Active, Inputs, Phase, PhaseContext, Quiescent
from neurorx.protocol_run import Protocol

__all__ = ["PHASES", "Active", "Hook", "Inputs", "Phase", "PhaseContext", "Protocol", "Quiescent"]
