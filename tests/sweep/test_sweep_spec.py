"""A sweep spec is validated before any job starts: unknown keys, cards and impossible values are named."""

import copy

import pytest
import yaml

import neurorx as nrx
from neurorx.errors import ConfigurationError
from neurorx.sweep import expand, load_spec


@pytest.fixture
def spec_dict(tiny_spec):
    return yaml.safe_load(tiny_spec.read_text())


def _fails(spec, tmp_path, *fragments):
    """The sweep refuses ``spec`` with a ConfigurationError naming every fragment, and starts nothing."""
    out = tmp_path / "never"
    with pytest.raises(ConfigurationError) as info:
        nrx.sweep(spec, out=out, scheduler="sync", show_progress=False)
    for frag in fragments:
        assert frag in str(info.value)
    assert not out.exists()
    return str(info.value)


def test_the_tiny_spec_expands_into_train_run_and_statistic_jobs(tiny_spec):
    spec = load_spec(tiny_spec)
    jobs = expand(spec)
    kinds = [j.kind for j in jobs]
    assert kinds.count("train") == 4             # 2 conditions x 2 seeds
    assert kinds.count("run") == 4               # each network, one backend, one run seed
    # total_variance + explained_variance per recording (4 + 4), kl per seed (2), learning_curve per network (4)
    assert kinds.count("statistic") == 14
    position = {j.id: i for i, j in enumerate(jobs)}
    assert all(position[i] < position[j.id] for j in jobs for i in j.inputs)   # inputs come first


def test_job_ids_depend_on_the_resolved_config_not_on_labels(spec_dict):
    a = {j.id for j in expand(load_spec(spec_dict))}
    assert a == {j.id for j in expand(load_spec(copy.deepcopy(spec_dict)))}
    changed = copy.deepcopy(spec_dict)
    changed["train"]["overrides"].append("trainer.lr=2e-3")
    assert a.isdisjoint({j.id for j in expand(load_spec(changed))})   # every job reads a retrained network
    renamed = copy.deepcopy(spec_dict)
    renamed["train"]["conditions"] = {"noisy": renamed["train"]["conditions"]["Us"],
                                      "plain": renamed["train"]["conditions"]["U"]}
    b = {j.id for j in expand(load_spec(renamed)) if j.kind != "statistic"}
    assert b <= a


def test_an_unknown_key_is_named_with_a_suggestion(spec_dict, tmp_path):
    spec_dict["runs"]["reactivation"]["trails"] = 4
    _fails(spec_dict, tmp_path, "runs.reactivation.trails", "Did you mean 'trials'")


def test_an_unknown_top_level_key_is_named(spec_dict, tmp_path):
    spec_dict["statistic"] = {}
    _fails(spec_dict, tmp_path, "unknown key 'statistic'", "'statistics'")


def test_an_unknown_card_is_named(spec_dict, tmp_path):
    spec_dict["train"]["conditions"]["U"]["card"] = "spatial_navigation/no-noise_unbaised"
    _fails(spec_dict, tmp_path, "train.conditions.U.card", "no-noise_unbaised", "no-noise_unbiased")


def test_an_unknown_override_key_is_named(spec_dict, tmp_path):
    spec_dict["train"]["overrides"].append("trainer.n_epoch=4")
    _fails(spec_dict, tmp_path, "trainer.n_epoch", "trainer.n_epochs")


@pytest.mark.parametrize("edit, fragments", [
    (lambda s: s["runs"]["reactivation"].update(trials=0), ["runs.reactivation.trials", ">= 1"]),
    (lambda s: s["train"].update(seeds=[0, -1]), ["train.seeds[1]"]),
    (lambda s: s["train"].update(seeds=[1, 1]), ["train.seeds", "twice"]),
    (lambda s: s.update(retries=-1), ["retries"]),
    (lambda s: s["train"]["overrides"].append("rnn.n_rec=0"), ["rnn.n_rec"]),
    (lambda s: s["runs"]["reactivation"]["protocol"][0].update(steps=0), ["protocol[0].steps"]),
    (lambda s: s["runs"]["reactivation"]["protocol"][1].update(start="later"), ["protocol[1]", "start"]),
    (lambda s: s["runs"]["reactivation"]["protocol"][1].update(phase="sleep"), ["unknown phase 'sleep'"]),
    (lambda s: s["runs"]["reactivation"].update(backends=["brain2"]), ["brain2", "'brian2'"]),
    (lambda s: s["runs"]["reactivation"].update(options={"torch": {"coupling": "matmul"}}), ["coupling"]),
    (lambda s: s["statistics"]["total_variance"].update(burn_in=29), ["burn_in=29", "quiescent"]),
    (lambda s: s["statistics"]["total_variance"].update(of="sleep"), ["unknown run 'sleep'"]),
    (lambda s: s["statistics"]["total_variance"].update(phases=["quiet"]), ["no phase 'quiet'"]),
    (lambda s: s["statistics"].update(kl2={"statistic": "kl_matrx", "of": "reactivation"}), ["'kl_matrix'"]),
    (lambda s: s["statistics"]["kl"].update(estimators=["exact"]), ["estimators"]),
    (lambda s: s["statistics"]["explained_variance"].update(n_component=3), ["n_components"]),
    (lambda s: s["statistics"]["explained_variance"].update(n_components=17), ["n_components=17", "Us: 16",
                                                                                "at most 16"]),
    (lambda s: s["statistics"]["explained_variance"].update(n_components=2.5), ["n_components", "positive integer"]),
    (lambda s: s["statistics"]["kl"].update(estimators=3), ["kl.estimators", "non-empty list"]),
    (lambda s: s["statistics"]["kl"].update(box=-1), ["kl.box", "positive number"]),
    (lambda s: s["statistics"]["kl"].update(mc_seed="zero"), ["kl.mc_seed"]),
    (lambda s: s["statistics"]["kl"].update(n_mc=1), ["kl.n_mc", ">= 2"]),
    (lambda s: s["runs"]["reactivation"].update(record=[]), ["needs the hidden states", "record: [h]"]),
    (lambda s: s["runs"]["reactivation"].update(conditions=["Ux"]), ["unknown condition 'Ux'"]),
    (lambda s: s["runs"]["reactivation"]["protocol"][1].update(noise={"name": "gausian"}),
     ["protocol[1]", "gausian"]),
    (lambda s: s["runs"]["reactivation"]["protocol"][1].update(noise={"dendritic": {"name": "gaussian"}}),
     ["protocol[1]", "placement"]),
])
def test_impossible_values_fail_before_any_job_naming_the_key(spec_dict, tmp_path, edit, fragments):
    edit(spec_dict)
    _fails(spec_dict, tmp_path, *fragments)


def test_a_yaml_spec_with_an_error_names_its_file(spec_dict, tmp_path):
    spec_dict["runs"]["reactivation"]["trails"] = 4
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec_dict))
    _fails(path, tmp_path, str(path), "trails")


def test_yaml_interpolation_resolves(spec_dict, tmp_path):
    spec_dict["runs"]["reactivation"]["trials"] = "${train.seeds.1}"   # OmegaConf interpolation -> 1
    path = tmp_path / "interp.yaml"
    path.write_text(yaml.safe_dump(spec_dict))
    assert load_spec(path).run("reactivation").trials == 1


def test_seeds_may_be_a_range(spec_dict):
    spec_dict["train"]["seeds"] = {"start": 3, "count": 2}
    assert load_spec(spec_dict).train.seeds == (3, 4)


@pytest.fixture(scope="module")
def shipped_specs():
    """Every spec in protocols/sweeps, loaded and expanded once (seconds each): ``{file name: (spec, jobs)}``."""
    from pathlib import Path

    specs = sorted((Path(__file__).parents[2] / "protocols" / "sweeps").glob("*.yaml"))
    return {path.name: (spec, expand(spec)) for path in specs for spec in [load_spec(path)]}


def test_every_shipped_spec_is_valid_and_expands(shipped_specs):
    assert shipped_specs
    for _spec, jobs in shipped_specs.values():
        assert jobs


def test_the_paper_spec_trains_five_networks_per_condition_at_paper_scale(shipped_specs):
    spec, jobs = shipped_specs["paper_five_seeds.yaml"]
    train = [j for j in jobs if j.kind == "train"]
    assert len(train) == 20 and spec.train.seeds == (0, 1, 2, 3, 4)
    assert {j.config["config"]["label"] for j in train} == {"U^σ", "B^σ", "U", "B"}
    assert all(j.config["config"]["rnn"]["n_rec"] == 512 and j.config["config"]["trainer"]["n_epochs"] == 2500
               for j in train)
    variance = spec.run("variance")
    assert variance.trials == 500 and variance.phase_steps() == {"quiescent": 2000}
    assert set(variance.backends) == {"torch", "brian2"}


def test_to_dict_is_the_yaml_layout_and_reads_back(tiny_spec):
    spec = load_spec(tiny_spec)
    again = load_spec(spec.to_dict())
    assert again.to_dict() == spec.to_dict()
    assert [j.id for j in expand(again)] == [j.id for j in expand(spec)]


def test_a_phase_noise_override_reaches_the_protocol_and_changes_only_its_runs_ids(spec_dict):
    from neurorx.sweep.kinds import _protocol

    plain = {j.id for j in expand(load_spec(spec_dict)) if j.kind == "run"}
    noisy = copy.deepcopy(spec_dict)
    override = {"name": "reference_uniform", "scale": 0.01}
    noisy["runs"]["reactivation"]["protocol"][1]["noise"] = override
    spec = load_spec(noisy)
    runs = [j for j in expand(spec) if j.kind == "run"]
    assert plain.isdisjoint({j.id for j in runs})          # a noisier quiescence is another recording
    quiescent = _protocol(list(spec.runs[0].protocol)).phases[1]
    assert quiescent.noise == override
    model = quiescent._noise_override()["recurrent"]
    assert model.to_dict()["scale"] == 0.01
