"""Full-length training checks (``pytest -m slow``): a small spatial network learns to path-integrate."""

import pytest

from neurorx.training import apply_overrides, load_card, train


@pytest.mark.slow
def test_small_spatial_network_decodes_far_below_chance(tmp_path):
    # ~2 minutes on 2 cores; measured: 13.3 cm at batch 1500 (chance 115 cm). The loss plateaus for the first
    # few hundred batches (as the paper's networks do) before the decoding error falls.
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"),
                          ["rnn.n_rec=64", "trainer.n_epochs=1500", "trainer.lr=0.005", "trainer.batch_size=64",
                           "trainer.eval_every=500"])
    net = train(cfg, tmp_path / "sp64", quiet=True)
    assert net.metrics["final"]["test_error"] < 0.3 * net.metrics["chance_error"]
