import math

import pytest
import yaml

from neurorx.noise import ReferenceUniformNoise, WhiteNoise
from neurorx.training import (
    Config,
    ConfigError,
    apply_overrides,
    find_card,
    list_cards,
    load_card,
    models_dir,
    parse_time,
)

EXPECTED_CARDS = {
    "spatial_navigation/noisy_unbiased", "spatial_navigation/noisy_biased",
    "spatial_navigation/no-noise_unbiased", "spatial_navigation/no-noise_biased",
    "spatial_navigation/noisy_unbiased_gru", "spatial_navigation/noisy_biased_gru",
    "spatial_navigation/noisy_unbiased_white", "spatial_navigation/noisy_biased_white",
    "spatial_navigation/noisy_unbiased_gru_white", "spatial_navigation/noisy_biased_gru_white",
    "head_direction/noisy_unbiased", "head_direction/noisy_biased",
    "head_direction/no-noise_unbiased", "head_direction/no-noise_biased",
    "head_direction/noisy_unbiased_white", "head_direction/noisy_biased_white",
}


@pytest.fixture(scope="module")
def sp():
    return load_card("spatial_navigation/noisy_unbiased")


def test_every_paper_configuration_has_a_card():
    assert EXPECTED_CARDS <= set(list_cards())


@pytest.mark.parametrize("name", sorted(set(list_cards()) | EXPECTED_CARDS))
def test_every_card_loads_and_builds_a_model(name):
    cfg = load_card(name)
    assert cfg.label and len(cfg.description) > 100
    task = cfg.build_task()
    model = cfg.build_model(task)
    cfg.build_noise()
    assert model.w_out.weight.shape == (task.n_cells, cfg.rnn.n_rec)
    assert model.encoder.weight.shape == (cfg.rnn.n_rec, task.n_cells)


@pytest.mark.parametrize("name", sorted(EXPECTED_CARDS))
def test_paper_card_settings(name):
    cfg = load_card(name)
    task = cfg.build_task()
    model = cfg.build_model(task)
    noise = cfg.build_noise()
    spatial = name.startswith("spatial")
    assert task.name == name.split("/")[0]
    assert task.biased == ("_biased" in name)
    assert model.n_rec == (512 if spatial else 128)
    assert model.cell_name == ("gru" if "gru" in name else "vanilla")
    assert model.activation_name == ("tanh" if "gru" in name else "relu")
    assert math.isclose(model.alpha, 0.2 if spatial else 0.5)
    assert model.w_out.weight.shape == (task.n_cells, model.n_rec) and task.n_cells == 512
    assert cfg.trainer.n_epochs == (2500 if spatial else 20000)
    assert (cfg.trainer.batch_size, cfg.trainer.steps, cfg.trainer.lr) == (200, 100, 1e-3)
    rec = noise["recurrent"]
    step = 0.01 if spatial else 0.1
    if "no-noise" in name:
        assert rec.is_zero
    elif name.endswith("white"):
        assert isinstance(rec, WhiteNoise)
        assert math.isclose(rec.sigma * math.sqrt(0.02), step)       # per-step SD at dt = 20 ms
        assert rec.step_moments(0.02)[0] == 0.0
    else:
        assert isinstance(rec, ReferenceUniformNoise)
        assert rec.scale == step and rec.dt_train == 0.02           # dt_train defaults to rnn.dt


def test_card_yaml_round_trip(sp, tmp_path):
    again = Config.from_dict(yaml.safe_load(sp.to_yaml()))
    assert again == sp
    path = tmp_path / "card.yml"
    path.write_text(sp.to_yaml())
    assert load_card(path) == sp
    assert load_card(str(models_dir() / "spatial_navigation" / "noisy_unbiased.yml")) == sp


def test_a_card_read_again_is_a_copy_and_an_edited_card_is_read_afresh(sp, tmp_path):
    path = tmp_path / "card.yml"
    path.write_text(sp.to_yaml())
    first = load_card(path)
    first.trainer.n_epochs = 7                  # a caller changing its copy changes nobody else's
    assert load_card(path).trainer.n_epochs == sp.trainer.n_epochs
    path.write_text(sp.to_yaml().replace("n_rec: 512", "n_rec: 64"))
    assert load_card(path).rnn.n_rec == 64      # the edit is read, not the first reading


def test_overrides_that_change_the_keys_allow_the_new_keys_in_the_same_list(sp):
    cfg = apply_overrides(sp, ["rnn.cell=dale", "rnn.excitatory_fraction=0.75", "task.name=head_direction",
                               "task.n_cells=32", "noise.recurrent={name: white, sigma: 0.1}",
                               "noise.recurrent.sigma=0.2"])
    assert cfg.rnn.cell == "dale" and cfg.task.name == "head_direction" and cfg.task.params["n_cells"] == 32
    assert cfg.build_noise()["recurrent"].sigma == 0.2
    with pytest.raises(ConfigError, match=r"unknown key 'rnn\.excitatory_fraction'"):
        apply_overrides(sp, ["rnn.excitatory_fraction=0.75"])   # a vanilla cell has no such parameter


@pytest.mark.parametrize("text,seconds", [("100 ms", 0.1), ("0.1 s", 0.1), ("20ms", 0.02), ("100*ms", 0.1),
                                          (0.04, 0.04), ("0.5", 0.5), ("1e-2 s", 0.01), ("2 s", 2.0)])
def test_parse_time(text, seconds):
    assert math.isclose(parse_time(text), seconds)


@pytest.mark.parametrize("bad", ["abc", "10 parsecs", -1, 0, "nan ms", True, 100, "20", 1.0])
def test_parse_time_rejects(bad):
    with pytest.raises(ConfigError):
        parse_time(bad, "rnn.tau")


def test_a_bare_number_of_a_second_or_more_asks_for_the_unit():
    with pytest.raises(ConfigError, match=r"rnn.tau=100 has no unit and would read as 100 seconds; "
                                          r"give it with units .*'100 ms'"):
        parse_time(100, "rnn.tau")


def test_overrides_coerce_types(sp):
    cfg = apply_overrides(sp, ["trainer.n_epochs=300", "rnn.n_rec=64", "seed=1", "trainer.lr=1e-4",
                               "task.biased=yes", "rnn.tau=50 ms", "trainer.threads=null", "trainer.fused=false",
                               "noise.recurrent.scale=0.02", "task.n_cells=64", "trainer.eval_every=1e2"])
    assert cfg.trainer.n_epochs == 300 and isinstance(cfg.trainer.n_epochs, int)
    assert cfg.rnn.n_rec == 64 and cfg.seed == 1
    assert cfg.trainer.lr == 1e-4 and isinstance(cfg.trainer.lr, float)
    assert cfg.task.params["biased"] is True and cfg.task.params["n_cells"] == 64
    assert math.isclose(cfg.rnn.alpha, 0.4)
    assert cfg.trainer.threads is None and cfg.trainer.fused is False and cfg.trainer.eval_every == 100
    assert cfg.build_noise()["recurrent"].scale == 0.02
    assert cfg.build_task().seed == 1            # the task's centres follow the run seed
    assert sp.trainer.n_epochs == 2500 and sp.rnn.n_rec == 512   # the original is unchanged


def test_override_noise_entries(sp):
    white = apply_overrides(sp, ["noise.recurrent={name: white, step_std: 0.01}"]).build_noise()["recurrent"]
    assert isinstance(white, WhiteNoise) and math.isclose(white.sigma, 0.01 / math.sqrt(0.02))
    assert apply_overrides(sp, ["noise.recurrent=null"]).build_noise() == {}
    inp = apply_overrides(sp, ["noise.input={name: white, sigma: 0.1}"]).build_noise()["input"]
    assert inp.placement == "input" and inp.sigma == 0.1


@pytest.mark.parametrize("item,suggestion", [
    ("trainer.n_epoch=3", "trainer.n_epochs"),
    ("n_epochs=3", "trainer.n_epochs"),
    ("rnn.nrec=64", "rnn.n_rec"),
    ("task.biasd=true", "task.biased"),
    ("trainr.lr=0.1", "trainer.lr"),
    ("noise.recurrent.scal=0.1", "noise.recurrent.scale"),
])
def test_unknown_key_suggests_close_match(sp, item, suggestion):
    with pytest.raises(ConfigError, match="unknown key") as err:
        apply_overrides(sp, [item])
    assert item.split("=")[0] in str(err.value)
    assert f"Did you mean '{suggestion}'" in str(err.value)


@pytest.mark.parametrize("item,match", [
    ("trainer.n_epochs=abc", "trainer.n_epochs: expected an integer"),
    ("trainer.n_epochs=1.5", "expected an integer"),
    ("trainer.lr=fast", "trainer.lr: expected a number"),
    ("rnn.bias=maybe", "rnn.bias: expected true or false"),
    ("rnn.tau=soon", "rnn.tau"),
    ("rnn.tau=10 ms", r"must lie in \(0, 1\]"),
    ("rnn.cell=lstm", "unknown cell 'lstm'"),
    ("trainer.dtype=float16", "trainer.dtype"),
    ("trainer.lr=-1", "positive"),
    ("task.biased=maybe", "task.biased"),
    ("task.name=navigation", "unknown task"),
    ("noise.recurrent.name=blah", "unknown noise model"),
    ("noise.middle={name: white}", "noise.middle"),
])
def test_bad_values_are_errors(sp, item, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(sp, [item])


def test_malformed_override(sp):
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(sp, ["trainer.n_epochs"])


def test_unknown_card_key_in_file(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("seed: 0\ntrainer:\n  n_epoch: 3\n")
    with pytest.raises(ConfigError, match=r"Did you mean 'trainer\.n_epochs'"):
        load_card(path)
    path.write_text("sed: 0\n")
    with pytest.raises(ConfigError, match=r"Did you mean 'seed'"):
        load_card(path)


def test_find_card_suggests():
    assert find_card("spatial_navigation/noisy_unbiased").name == "noisy_unbiased.yml"
    with pytest.raises(FileNotFoundError, match="Did you mean 'spatial_navigation/noisy_unbiased'"):
        find_card("spatial_navigation/noisy_unbiasd")


def test_task_and_network_step_must_agree(sp):
    with pytest.raises(ConfigError, match="time step"):
        apply_overrides(sp, ["rnn.dt=10 ms"]).build_task()


def test_the_noise_training_step_follows_rnn_dt_by_interpolation(sp, tmp_path):
    cfg = apply_overrides(sp, ["rnn.dt=10 ms", "task.dt=0.01"])
    assert cfg.build_noise()["recurrent"].dt_train == 0.01           # follows rnn.dt ...
    assert "dt_train" not in cfg.noise                                # ... without being written into the card
    fixed = apply_overrides(sp, ["rnn.dt=10 ms", "noise.recurrent.dt_train=20 ms"])
    assert fixed.build_noise()["recurrent"].dt_train == 0.02         # unless given
    path = tmp_path / "c.yml"
    path.write_text(sp.to_yaml().replace("scale: 0.01", "scale: 0.01\n    dt_train: ${rnn.tau}"))
    assert load_card(path).build_noise()["recurrent"].dt_train == 0.1    # any OmegaConf interpolation


@pytest.mark.parametrize("name", sorted(EXPECTED_CARDS))
def test_every_card_survives_the_yaml_round_trip(name, tmp_path):
    cfg = load_card(name)
    path = tmp_path / "again.yml"
    path.write_text(cfg.to_yaml())
    assert load_card(path) == cfg


def test_shipped_networks_saved_configs_read_back():
    import neurorx as nrx
    from neurorx.zoo import list_cards, list_networks

    for name in set(list_networks()) & set(list_cards()):     # RateNetworks trained from a card
        saved = Config.from_dict(nrx.load(name).config)
        card = load_card(name)
        assert (saved.task, saved.rnn, saved.noise, saved.seed) == (card.task, card.rnn, card.noise, card.seed), name


def test_one_exception_type_for_configuration_mistakes(sp):
    from neurorx.errors import ConfigurationError

    assert ConfigError is ConfigurationError
    with pytest.raises(ConfigurationError, match=r"trainer.batch_size must be an integer >= 1 \(a positive integer\)"):
        apply_overrides(sp, ["trainer.batch_size=0"])


@pytest.mark.parametrize("item,message", [
    ("noise=abc", "noise: expected a mapping or null, got 'abc'"),
    ("seed=x", "seed: expected an integer, got 'x'"),
    ("trainer.threads=two", "trainer.threads: expected an integer or null, got 'two'"),
    ("noise.recurrent={name: white, step_std: 0.01, sigma: 1}", "give step_std alone"),
])
def test_type_errors_name_the_key_and_the_expected_type(sp, item, message):
    with pytest.raises(ConfigError) as err:
        apply_overrides(sp, [item])
    assert message in str(err.value)


def test_noise_times_take_units_through_parse_time(sp):
    ou = apply_overrides(sp, ["noise.input={name: ou, sigma: 0.1, tau_noise: 2 s}"]).build_noise()["input"]
    assert ou.tau_noise == 2.0                                          # with a unit, a long time is fine
    with pytest.raises(ConfigError, match=r"noise\.input\.tau_noise"):
        apply_overrides(sp, ["noise.input={name: ou, sigma: 0.1, tau_noise: soon}"])


def test_a_card_may_interpolate_across_sections(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("task: {name: head_direction}\nrnn: {n_rec: 128, tau: 40 ms, dt: 20 ms}\n"
                    "trainer: {batch_size: 32, test_batch: '${trainer.batch_size}'}\nseed: 2\nlabel: x${seed}\n")
    cfg = load_card(path)
    assert cfg.trainer.test_batch == 32 and cfg.label == "x2"
    path.write_text("trainer: {test_batch: '${trainer.batchsize}'}\n")
    with pytest.raises(ConfigError, match=r"c.yml: .*Interpolation key 'trainer.batchsize' not found"):
        load_card(path)


@pytest.mark.parametrize("name", sorted(list_cards()))
def test_every_card_trains_and_saves_a_network_that_loads(name, tmp_path):
    """Every shipped card (every cell, task and noise family) trains with the trainer, at a tiny size: two
    batches of 16 units, and the saved network loads with the card's cell (so a Dale card's sign checks pass)."""
    import neurorx as nrx
    from neurorx.training import train

    cfg = apply_overrides(load_card(name), ["rnn.n_rec=16", "trainer.n_epochs=2", "trainer.batch_size=4",
                                            "trainer.steps=5", "trainer.test_batch=4", "trainer.eval_every=1",
                                            "trainer.threads=1"])
    train(cfg, tmp_path / "out", quiet=True)
    net = nrx.load(tmp_path / "out" / "network.npz")
    assert net.cell == cfg.rnn.cell and net.n_rec == 16
    assert net.metrics["final"]["batch"] == 2
