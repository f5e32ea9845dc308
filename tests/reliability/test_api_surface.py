"""Every public API entry refuses bad input with one clear error before any work; registries are iterated.

A noise model, phase, backend or statistic added to its registry is tried here without editing this file.
"""

import dataclasses

import numpy as np
import pytest
import yaml
from netfactory import make_network

import neurorx as nrx
from neurorx.analysis import STATISTICS, bootstrap_interval, energy_distance, permutation_p_value
from neurorx.backends import backend_names, get_backend
from neurorx.ei.experiment import ExperimentConfig
from neurorx.errors import ArgumentTypeError, ConfigurationError, ResourceError, SimulationError
from neurorx.experiments.demo import DemoConfig
from neurorx.noise import NOISE_MODELS
from neurorx.phases import PHASES
from neurorx.resources import check_resamples, raised_limits
from neurorx.sweep.spec import load_spec
from neurorx.yamlfile import YamlError, read_yaml

TINY_SPEC = "tests/sweep/tiny.yaml"


@pytest.fixture(scope="module")
def net():
    return make_network(noise={"recurrent": nrx.WhiteNoise(0.05)})


@pytest.fixture(scope="module")
def rec(net):
    return nrx.Protocol([nrx.Active(steps=6), nrx.Quiescent(steps=6)]).run(net, trials=3, seed=0, record=("h",),
                                                                            progress=False)


# -- noise models and phases -----------------------------------------------------------------------------------
def _scalable_models():
    out = []
    for name in NOISE_MODELS.names():
        try:
            model = NOISE_MODELS.get(name).example(steps=4, shape=(3, 8), dt=0.02)
            model.step_moments(0.02)
        except (NotImplementedError, ValueError):
            continue
        if not model.is_zero:
            out.append(name)
    return out


@pytest.mark.parametrize("name", _scalable_models())
def test_a_noise_amplitude_that_overflows_is_refused_at_validation(net, name):
    model = NOISE_MODELS.get(name).example(steps=4, shape=(3, 8), dt=0.02)
    with pytest.raises(ConfigurationError, match=r"phase 'quiescent' .*infinite step variance"):
        nrx.Protocol([nrx.Quiescent(steps=4, noise=model, noise_scale=1e300)]).run(net, trials=2, seed=0)


@pytest.mark.parametrize("kind", PHASES.names())
@pytest.mark.parametrize("changes", [{"steps": -1}, {"steps": 0}, {"noise_scale": float("nan")},
                                     {"noise_scale": float("inf")}, {"noise_scale": -1.0}])
def test_every_phase_refuses_impossible_values(kind, changes):
    with pytest.raises((ValueError, TypeError)):
        PHASES.get(kind)(**{"steps": 3, **changes})


@pytest.mark.parametrize("phases", [None, 5, "active", [None]])
def test_a_protocol_of_something_else_than_phases_is_one_type_error(phases):
    with pytest.raises((ArgumentTypeError, TypeError), match=r"Protocol|Phase objects"):
        nrx.Protocol(phases)


# -- backends -----------------------------------------------------------------------------------------------------
def test_an_unknown_backend_lists_every_backend_even_those_not_imported():
    with pytest.raises(ConfigurationError) as err:
        get_backend("nonsense")
    names = backend_names()
    assert "brian2" in names and "torch" in names
    assert str(err.value).startswith(f"unknown backend 'nonsense'; choose one of {names}")


# -- statistics refuse garbage ----------------------------------------------------------------------------------
def _garbage(rec):
    far = rec.decoded.copy()
    far[0, -1] = 1e30
    nan = rec.decoded.copy()
    nan[1, -2, 0] = np.nan
    return {"positions far outside the arena": dataclasses.replace(rec, decoded=far),
            "NaN decoded": dataclasses.replace(rec, decoded=nan),
            "exploded h": dataclasses.replace(rec, h=rec.h * 1e9)}


@pytest.mark.parametrize("stat", [n for n in STATISTICS.names() if STATISTICS.get(n).applies_to(False)
                                  and STATISTICS.get(n).scope != "training"])
@pytest.mark.parametrize("fault", ["positions far outside the arena", "NaN decoded", "exploded h"])
def test_every_statistic_refuses_a_recording_that_diverged(rec, stat, fault):
    entry, bad = STATISTICS.get(stat), _garbage(rec)[fault]
    with pytest.raises(SimulationError, match=r"re-run the protocol"):
        if entry.scope == "phase":
            entry.value(bad.select("quiescent"), False)
        elif entry.scope == "run":
            entry.outputs(bad, circular=False)
        else:                                               # scope "conditions": one recording per condition
            entry.outputs({"A": rec, "B": bad}, circular=False)


def test_decoded_angles_beyond_two_pi_are_refused(rec):
    angles = dataclasses.replace(rec, decoded=np.full((*rec.decoded.shape[:2], 1), 1e30),
                                 states=np.zeros((*rec.states.shape[:2], 1)), meta={**rec.meta, "circular": True})
    with pytest.raises(SimulationError, match=r"decoded angles .* beyond the limit 6.28"):
        STATISTICS.get("total variance").value(angles, True)


@pytest.mark.parametrize("fault", ["positions far outside the arena", "NaN decoded", "exploded h"])
def test_compare_refuses_a_recording_that_diverged_before_any_statistic(rec, fault):
    with pytest.raises(SimulationError, match=r"^rec_b \(torch\): "):
        nrx.compare(rec, _garbage(rec)[fault], n_boot=20, n_perm=19)


def test_a_sound_recording_passes(rec):
    assert np.isfinite(STATISTICS.get("total variance").value(rec.select("quiescent"), False))


# -- resources --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keyword", ["n_boot", "n_perm"])
def test_compare_refuses_resamples_beyond_the_limit_before_any_work(rec, keyword):
    with pytest.raises(ResourceError, match=r"100,000,000,000, above the limit of 1,000,000.*--max-resamples"):
        nrx.compare(rec, rec, **{keyword: 10**11})


def test_bootstrap_and_permutation_refuse_resamples_beyond_the_limit():
    a, b = np.zeros((5, 2)), np.ones((5, 2))
    with pytest.raises(ResourceError, match="the bootstrap"):
        bootstrap_interval(energy_distance, a, b, n_boot=10**11)
    with pytest.raises(ResourceError, match="the permutation test"):
        permutation_p_value(energy_distance, np.zeros((40, 2)), np.ones((40, 2)), n_resamples=10**11)


def test_a_limit_is_raised_on_purpose_and_restored():
    with pytest.raises(ResourceError):
        check_resamples(2_000_000, 10, "x")
    with raised_limits(resamples=3_000_000):
        assert check_resamples(2_000_000, 10, "x") == 2_000_000
    with pytest.raises(ResourceError):
        check_resamples(2_000_000, 10, "x")


def test_an_ei_grid_is_counted_before_it_is_built():
    with pytest.raises(ResourceError, match=r"run count .* is 2,400,000,000, above the limit of 100,000.*--max-jobs"):
        ExperimentConfig(n_configs=100_000_000)
    with raised_limits(jobs=10**10), pytest.raises(ResourceError, match=r"would take at least .* hours"):
        ExperimentConfig(n_configs=100_000_000)


@pytest.mark.parametrize("changes,match", [
    ({"train": {"seeds": {"start": 0, "count": 10**7}}}, r"train.seeds.count is 10,000,000, above the limit"),
    ({"runs": {"reactivation": {"seeds": {"start": 0, "count": 5 * 10**6}}}}, r"seeds.count is 5,000,000"),
    ({"train": {"overrides": ["rnn.n_rec=10000000"]}}, r"training 10000000 units .* needs at least .* of memory"),
    ({"runs": {"reactivation": {"trials": 10**8}}}, r"run 'reactivation' \(100,000,000 trials .* of memory"),
])
def test_a_sweep_spec_too_large_is_refused_when_it_is_read(changes, match):
    spec = yaml.safe_load(open(TINY_SPEC))
    for section, values in changes.items():
        target = spec[section]
        for key, value in values.items():
            if isinstance(value, dict) and key in target and isinstance(target[key], dict) and "count" not in value:
                target[key].update(value)
            elif key == "overrides":
                target[key] = [o for o in target[key] if not o.startswith("rnn.n_rec")] + value
            else:
                target[key] = value
    with pytest.raises(ResourceError, match=match):
        load_spec(spec)


# -- the demo and YAML ------------------------------------------------------------------------------------------
def test_demo_phases_too_short_to_record_name_the_fix():
    with pytest.raises(ConfigurationError, match=r"quiescent_steps=5: .* use --quiescent 10 or more"):
        DemoConfig(trials=2, quiescent_steps=5)


@pytest.mark.parametrize("text,match", [
    ("task: {name: x\nrnn: [1, 2\n", r"line 2, column \d+: invalid YAML"),
    ("task: !!python/object/apply:os.system ['echo hi']\n", r"line 1, column 7: the tag !!python/object/apply"),
    (b"\xff\xfe\x00\x01", r"is not a text file"),
])
def test_a_yaml_file_that_cannot_be_read_names_file_line_and_column(tmp_path, text, match):
    path = tmp_path / "card.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(YamlError, match=match):
        read_yaml(path, "model card")


def test_a_folder_given_as_a_yaml_file_is_named(tmp_path):
    with pytest.raises(YamlError, match="is a folder, not a model card"):
        read_yaml(tmp_path, "model card")
