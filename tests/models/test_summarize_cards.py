"""models/summarize.py rewrites a card's "Shipped network" paragraph in place, whole."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _summarize():
    spec = importlib.util.spec_from_file_location("summarize", ROOT / "models" / "summarize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CARD = """label: "x"
description: |
  First paragraph.
  Shipped network (models/a/b.npz): trained with `bash models/train_shipped.sh
  a/b` (seed 0) for 3000 batches; final test error 8.8 deg; the curve
  still falling.

  Noise: kept.
seed: 0
"""


def test_a_wrapped_paragraph_is_replaced_whole_and_the_rest_is_kept(tmp_path):
    card = tmp_path / "b.yml"
    card.write_text(CARD, encoding="utf-8")
    _summarize().rewrite_card(card, "  Shipped network (models/a/b.npz): NEW.\n")
    text = card.read_text(encoding="utf-8")
    assert "  Shipped network (models/a/b.npz): NEW.\n\n  Noise: kept.\nseed: 0\n" in text
    assert "8.8 deg" not in text and "still falling" not in text
    assert text.startswith('label: "x"\ndescription: |\n  First paragraph.\n')


def test_a_card_without_the_paragraph_gets_it_at_the_end_of_its_description(tmp_path):
    card = tmp_path / "b.yml"
    card.write_text('label: "x"\ndescription: |\n  Only this.\nseed: 0\n', encoding="utf-8")
    _summarize().rewrite_card(card, "  Shipped network (models/a/b.npz): NEW.\n")
    assert card.read_text(encoding="utf-8") == (
        'label: "x"\ndescription: |\n  Only this.\n\n  Shipped network (models/a/b.npz): NEW.\nseed: 0\n')
