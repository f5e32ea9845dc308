r"""Neurodata Without Borders (NWB) files: write a :class:`~neurorx.Recording`, read a lab's recording.

:func:`write` (also :meth:`neurorx.Recording.to_nwb`) stores a run in the layout labs use, with pynwb;
:func:`read` turns an NWB file from any lab (units, position or head direction, epochs) into a
:class:`~neurorx.Recording` of decoded trajectories through pynapple's tuning curves and Bayesian decoder, so
that :mod:`neurorx.analysis` and :func:`neurorx.compare` apply to data. :func:`inspect` runs nwbinspector.

Both need the optional extra ``neurorx[data]`` (pynwb, pynapple, nwbinspector); importing this module does
not, and a missing package is one line naming ``pip install 'neurorx[data]'``.

Layout of a written file
------------------------
- **Time.** The ``B`` trials of a run are placed one after another on one time axis: trial ``b`` occupies
  :math:`[bD, (b+1)D)` with :math:`D = T\,\Delta t` (``T`` steps of ``dt`` seconds), and the state after step
  ``k`` is stamped :math:`bD + t_k - t_0 + \Delta t/2` (the recording's ``t`` shifted so that every step sits in
  the middle of its own interval ``[bD + k\Delta t, bD + (k+1)\Delta t)``). All times in seconds.
- **Epochs** (``epochs`` table): one row per trial and phase, tagged with the phase label (``active``,
  ``quiescent``, ...), with the column ``trial_index``; **trials** (``trials`` table): one row per trial.
- **Units**: spike times when the recording has spikes (``rec.spikes``, or ``spikes=``; see
  :class:`UnitSpikes` or a spiking run's :class:`neurorx.spike_trains.SpikeTrains`), one unit per neuron with
  columns ``rate_unit`` (index of the rate unit it belongs to),
  ``population`` and ``cell_type`` (``E``/``I``); a rate run has no Units table unless spikes are given (e.g.
  drawn with :func:`poisson_spikes`).
- **Processing module** ``network``: the hidden states ``h`` as the TimeSeries ``rates`` (unit ``a.u.``,
  rate units' activations), the raw outputs ``y`` as ``outputs``.
- **Behaviour** (processing module ``behavior``): the true trajectory during the ``active`` phases, as
  ``Position/position`` (metres, 2-D) or ``CompassDirection/head_direction`` (radians in
  :math:`[-\pi, \pi)`).
- **Processing module** ``decoded``: the network's decoded outputs over the whole run, as
  ``DecodedPosition/decoded_position`` or ``DecodedDirection/decoded_head_direction``.
- **Metadata**: ``notes`` holds the run's ``meta`` as JSON (network, protocol, seeds, versions);
  ``experiment_description`` the network; the subject is the simulated network (``subject_id`` from the
  network, ``date_of_birth`` its training date, species the modelled animal, sex ``U``).
"""

from neurorx.io.nwb.reader import SLEEP_NAMES, UNVISITED_RATE, WAKE_NAMES, read
from neurorx.io.nwb.spikes import UnitSpikes, poisson_spikes
from neurorx.io.nwb.writer import inspect, write
from neurorx.moved import moved_names

__all__ = ["SLEEP_NAMES", "UNVISITED_RATE", "WAKE_NAMES", "UnitSpikes", "inspect", "poisson_spikes", "read", "write"]


# the earlier name of UnitSpikes, distinct from neurorx.spike_trains.SpikeTrains
__getattr__ = moved_names(__name__, renamed={"SpikeTrains": (
    UnitSpikes, "neurorx.io.nwb.SpikeTrains is now neurorx.io.nwb.UnitSpikes (neurorx.SpikeTrains is a spiking "
                "run's own record)")})
