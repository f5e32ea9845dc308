"""A training's sweep job id does not move when the cells' parameters become configuration fields.

The ids below were computed by neurorx at commit bd5eea4, when the Dale cells' parameters were class
attributes hashed through ``Cell.settings()``. Stores written since (the paper and science sweeps) are named by
them, so a card with the cells' default parameters must keep them under both id schemes. The exception is the
normalized Dale cells: their parameters ``inhibition`` (default ``"steady"``), then ``pool_input`` of
``dale_norm`` (default ``"drive"``) changed their dynamics, and ``error_norm`` their training, so their scheme-2
ids are new (no sweep had trained them; ``dale_subnorm`` has no pool, but its fixed ``pool_input = None`` is
among the settings an id hashes), and every combination has its own id. The ``dale_norm`` card then set
``rnn.error_norm: full``, which changed its scheme-1 ids too.
"""

import hashlib

import pytest

import neurorx as nrx
from neurorx.sweep import expand, load_spec
from neurorx.sweep.spec import Condition, TrainSpec, resolve_training

PINNED = [
    ("head_direction/noisy_unbiased_dale", ("trainer.n_epochs=3000",), 0,
     "train-8118cf8bc6003cf3df06", "train-1a864320b4c4a6b8e3c6"),
    ("spatial_navigation/noisy_unbiased_dale", (), 0, "train-1cbc757088d220e5962c", "train-d8c98e4341bb07a60b18"),
    ("spatial_navigation/noisy_unbiased_dale", (), 3, "train-f6895f2d33a99aa4173f", "train-38ea65dfc44014734f23"),
    ("spatial_navigation/noisy_biased_white_dale", (), 1, "train-6c1b6f3c2265751f7ffc",
     "train-3804eda0afeee1e1c701"),
    ("spatial_navigation/noisy_unbiased", (), 0, "train-040e427b6c4affc28cca", "train-10824fd99db34128edf2"),
    ("head_direction/noisy_unbiased_dale_norm", (), 0, "train-3270a48a16eb59c4de1e", "train-616b0ab77f9762f871e1"),
    ("head_direction/noisy_unbiased_dale_norm", ("rnn.pool_input=rates",), 0, "train-928073266552855b1853",
     "train-361ff6aeb4e1a249302b"),
    ("head_direction/noisy_unbiased_dale_norm", ("rnn.inhibition=integrated",), 0, "train-e2ec5e2f7d67ac72ac11",
     "train-3aa9535cd2a77b5c3753"),
    ("head_direction/noisy_unbiased_dale_subnorm", (), 0, "train-8d257647a1d8a07a3447",
     "train-265b93715ad3e8853fe8"),
    ("spatial_navigation/noisy_unbiased_gru", (), 0, "train-0f3c5a77a47b5aa96f41", "train-a3c343a4eab8debe35fb"),
]


@pytest.mark.parametrize(("card", "overrides", "seed", "scheme1", "scheme2"), PINNED,
                         ids=[f"{c}-{s}" for c, _, s, _, _ in PINNED])
def test_a_trainings_job_id_is_the_one_computed_before_cell_parameters_were_fields(card, overrides, seed, scheme1,
                                                                                  scheme2):
    cond = Condition("c", card, overrides)
    config = {"config": resolve_training(TrainSpec((cond,)), cond, seed)}
    assert nrx.sweep.job_id("train", config, scheme=1) == scheme1
    assert nrx.sweep.job_id("train", config) == scheme2


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "scheme", "count", "digest"), [
    ("protocols/sweeps/science_five_seeds.yaml", 1, 600, "356321f3b28c57e9"),
    ("protocols/sweeps/science_five_seeds.yaml", 2, 600, "ba2ad49aa531f7d3"),
    ("protocols/sweeps/paper_five_seeds.yaml", 1, 230, "0ec5e6db7f044730"),
    ("protocols/sweeps/paper_five_seeds.yaml", 2, 230, "e53c7106ea5f11bc"),
])
def test_every_job_of_the_shipped_sweeps_keeps_its_id(spec, scheme, count, digest):
    ids = sorted(j.id for j in expand(load_spec(spec), scheme=scheme))
    assert (len(ids), hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]) == (count, digest)
