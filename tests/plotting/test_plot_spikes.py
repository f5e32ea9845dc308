"""The spike raster figure of one trial of a spiking run."""

import numpy as np
import pytest
from netfactory import make_network

import neurorx as nrx
import neurorx.plotting as nplt


def test_spike_raster_draws_raster_rate_and_decoded_of_a_recorded_trial():
    net = make_network(n_rec=6, scale=1.0)
    rec = nrx.Protocol([nrx.Active(steps=5), nrx.Quiescent(steps=5)]).run(
        net, backend="brian2-spiking", trials=2, seed=0, per_unit=4, max_rate=40, record=("spikes",),
        spike_trials=[1], target="numpy")
    axes = nplt.spike_raster(rec)
    assert len(axes) == 3
    raster = axes[0].collections[0].get_offsets()
    assert len(raster) == int((rec.spikes.trial == 1).sum()) > 0
    rate = axes[1].lines[0].get_ydata()
    assert rate.sum() * 0.02 * net.n_rec * 4 == pytest.approx(len(rec.spikes))   # spikes per bin, all counted
    with pytest.raises(ValueError, match="trial 0 was not recorded"):
        nplt.spike_raster(rec, trial=0)
    with pytest.raises(ValueError, match="no spikes"):
        nplt.spike_raster(nrx.Protocol([nrx.Active(steps=2)]).run(net, trials=1))
    assert np.isfinite(axes[2].lines[0].get_ydata()).all()
