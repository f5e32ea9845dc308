"""Every shipped recurrent network runs as spiking populations with one changed argument of the user's script.

The README's protocol (Active, then Quiescent with the doubled noise variance) runs on ``backend="torch"`` and,
with only the backend name changed, on ``backend="brian2-spiking"``; a network that cannot spike (the GRU's
gates) is refused in one line naming why. The networks come from the zoo's registry, so a newly shipped network is
tested without editing this file.
"""

import numpy as np
import pytest

import neurorx as nrx
from neurorx.backends import get_backend
from neurorx.io.files import CorruptFileError
from neurorx.zoo import list_networks

FAST = {"target": "numpy"}


def _recurrent(name: str) -> bool:
    """Whether the shipped file is a recurrent RateNetwork (``ei/`` holds the feed-forward E/I networks)."""
    try:
        nrx.load(name)
    except CorruptFileError:
        return False
    return True


RECURRENT = [name for name in list_networks() if _recurrent(name)]
PROTOCOL = nrx.Protocol([nrx.Active(steps=3), nrx.Quiescent(steps=3, noise_scale=2 ** 0.5)])


def test_the_zoo_ships_vanilla_dale_and_gated_networks_of_both_tasks():
    cells = {nrx.load(name).cell for name in RECURRENT}
    tasks = {name.split("/")[0] for name in RECURRENT}
    assert {"vanilla", "dale", "gru"} <= cells and {"head_direction", "spatial_navigation"} <= tasks


@pytest.mark.parametrize("name", RECURRENT)
def test_every_shipped_network_runs_as_spikes_or_is_refused_in_one_line(name):
    net = nrx.load(name)
    why = get_backend("brian2-spiking").unsupported(net)
    if net.cell in ("vanilla", "dale"):
        assert why is None
        rate = PROTOCOL.run(net, backend="torch", trials=2, seed=0)
        spikes = PROTOCOL.run(net, backend="brian2-spiking", trials=2, seed=0, per_unit=2, record=("spikes",),
                              **FAST)
        assert spikes.decoded.shape == rate.decoded.shape == (2, 6, rate.decoded.shape[-1])
        assert np.isfinite(spikes.decoded).all()
        assert len(spikes.spikes) > 0
        np.testing.assert_array_equal(spikes.phase, rate.phase)
    else:
        assert why is not None and "\n" not in why and "cannot be spiked" in why
        with pytest.raises(ValueError, match="cannot be spiked") as info:
            PROTOCOL.run(net, backend="brian2-spiking", trials=1, seed=0, **FAST)
        assert "\n" not in str(info.value)
