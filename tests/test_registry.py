"""The one suggestion helper ("did you mean") and the registry's unknown-name error."""

import pytest

from neurorx.registry import Registry, suggest


@pytest.mark.parametrize(("name", "options", "expected"), [
    ("softmx", ["softmax", "relu"], " Did you mean 'softmax'?"),
    ("zzz", ["softmax", "relu"], ""),
    ("trainer.n_epoch", ["trainer.n_epochs", "trainer.lr", "rnn.n_rec"], " Did you mean 'trainer.n_epochs'?"),
    ("n_epochs", ["seed", "trainer.n_epochs", "rnn.n_rec"], " Did you mean 'trainer.n_epochs'?"),
    ("trainr.lr", ["trainer.lr", "rnn.tau"], " Did you mean 'trainer.lr'?"),
])
def test_suggest(name, options, expected):
    assert suggest(name, options) == expected


def test_registry_get_names_the_choices_and_a_close_match():
    reg = Registry("colour")
    reg.add("magenta", 1)
    with pytest.raises(ValueError, match=r"unknown colour 'magneta'; choose one of \['magenta'\]\. Did you mean"):
        reg.get("magneta")
