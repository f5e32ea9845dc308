"""The I–E rate correlation: E and I population mean rates [h]+ correlated over time, per trial and as the
registered statistic ``ie_correlation`` that reads the network's populations."""

import numpy as np
import pytest
from brian2 import ms

import neurorx as nrx
from neurorx.analysis import applicable_statistics, get_statistic, ie_rate_correlation, population_rates
from neurorx.errors import ConfigurationError

POPS = {"E": slice(0, 4), "I": slice(4, 6)}


def _states(e_rate, i_rate):
    """Hidden states (B, T, 6) whose E units (0-3) all sit at ``e_rate`` and I units (4, 5) at ``i_rate``."""
    return np.concatenate([np.repeat(e_rate[..., None], 4, axis=-1), np.repeat(i_rate[..., None], 2, axis=-1)], -1)


def _network(cell="dale", n=6, fraction=4 / 6):
    rng = np.random.default_rng(0)
    task = nrx.SpatialNavigation(n_cells=3, seed=0)
    n_e = round(fraction * n)
    w_rec = np.abs(rng.normal(size=(n, n))) * 0.1
    w_out = rng.normal(size=(3, n))
    params = {}
    if cell == "dale":
        w_rec[:, n_e:] *= -1
        w_out[:, n_e:] = 0
        params = {"excitatory_fraction": fraction}
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n, 3)), w_in=rng.normal(size=(n, task.n_in)), w_rec=w_rec, w_out=w_out,
        tau=100 * ms, dt=20 * ms, cell=cell, cell_params=params, task=task)


def test_rates_are_the_population_means_of_the_rectified_states():
    h = np.array([[[1.0, -1.0, 3.0, 0.0, -2.0, 4.0]]])
    rates = population_rates(h, POPS)
    np.testing.assert_array_equal(rates["E"], [[1.0]])          # (1 + 0 + 3 + 0) / 4
    np.testing.assert_array_equal(rates["I"], [[2.0]])          # (0 + 4) / 2


def test_rates_that_rise_together_correlate_1_and_opposite_rates_minus_1():
    t = np.linspace(0, 1, 50)
    e = np.stack([1 + np.sin(5 * t), 2 + t])
    together = ie_rate_correlation(_states(e, 3 * e + 0.5), POPS)
    opposite = ie_rate_correlation(_states(e, 10 - 2 * e), POPS)
    np.testing.assert_allclose(together, [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(opposite, [-1.0, -1.0], atol=1e-12)


def test_a_trial_whose_rate_does_not_vary_has_no_correlation():
    e = np.stack([np.linspace(1, 2, 20), np.linspace(1, 2, 20)])
    i = np.stack([np.linspace(2, 3, 20), np.full(20, 0.7)])
    rho = ie_rate_correlation(_states(e, i), POPS)
    assert rho[0] == pytest.approx(1.0) and np.isnan(rho[1])


def test_the_statistic_reads_the_networks_populations_and_averages_over_trials_with_a_correlation():
    stat = get_statistic("ie_correlation")
    net = _network()
    assert net.cell_object.populations(6) == POPS
    t = np.linspace(0, 1, 30)
    e = np.stack([1 + t, 1 + t**2, 1 + t])
    i = np.stack([2 + t, 5 - t**2, np.full(30, 0.3)])           # +1, -1, undefined
    assert stat.value(_states(e, i), network=net) == pytest.approx(0.0, abs=1e-12)
    assert stat.value(_states(e[:1], i[:1]), network=net) == pytest.approx(1.0)


def test_the_statistic_is_nan_for_a_network_without_an_ei_split():
    stat = get_statistic("ie_correlation")
    t = np.linspace(0, 1, 30)[None]
    assert np.isnan(stat.value(_states(1 + t, 2 + t), network=_network("vanilla")))


def test_the_statistic_without_a_network_is_refused_in_one_line_and_compare_leaves_it_out():
    stat = get_statistic("ie_correlation")
    assert stat.needs_network and stat.of == "h"
    with pytest.raises(ConfigurationError, match="pass network="):
        stat.value(np.ones((1, 5, 6)))
    for circular in (False, True):
        assert stat not in applicable_statistics(circular)
