"""The pages a new user reads first work from an installed package and explain their labels (issue 27, trap 7)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
FIRST_USE = ("index.md", "getting-started.md", "cli.md", "head-direction.md", "noise-swaps.md", "sweeps.md")
CHECKOUT_NETWORK = re.compile(r"models/[\w-]+/[\w-]+\.npz")


@pytest.mark.parametrize("page", FIRST_USE)
def test_a_first_use_page_names_shipped_networks_not_checkout_paths(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```(?:python|bash|console|text|yaml)?\n(.*?)```", text, flags=re.S))
    found = CHECKOUT_NETWORK.findall(code)
    assert not found, f"docs/{page} loads {found} by a checkout path; use the shipped name (head_direction/...)"


def test_the_notation_page_explains_every_condition_label_of_fig_2e():
    text = (DOCS / "notation.md").read_text(encoding="utf-8")
    for label in ("U^σ", "U", "B^σ", "B", "R^σ", "𝒰"):         # the rows and columns of the KL matrix
        letter, _, sup = label.partition("^")
        row = f"| {letter}<sup>{sup}</sup> (`{label}`) |" if sup else f"| {label} |"
        assert row in text, f"notation.md has no row explaining {label}"


def test_the_noise_docs_link_the_noise_swaps_page():
    assert "(../noise-swaps.md)" in (DOCS / "api" / "noise.md").read_text(encoding="utf-8")
    assert "(noise-swaps.md)" in (DOCS / "getting-started.md").read_text(encoding="utf-8")
