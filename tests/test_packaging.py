"""An installed package (a wheel, not the source tree) carries the model cards and the shipped networks."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from neurorx.zoo import list_cards, list_networks

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_every_card_and_network_and_finds_them_by_name(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("neurorx-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    for name in list_cards():
        assert f"neurorx/_models/{name}.yml" in names
    for name in list_networks():
        assert f"neurorx/_models/{name}.npz" in names
    code = ("import neurorx as nrx, neurorx.zoo as z; print(z.models_dir()); "
            "print(nrx.load('spatial_navigation/noisy_unbiased').n_rec); "
            "from neurorx.training import load_card; print(load_card('head_direction/noisy_biased').label)")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout.split("\n")
    assert out[0] == str(tmp_path / "site" / "neurorx" / "_models")     # not the source tree
    assert out[1] == "512" and out[2]


def _requirements() -> dict[str, str]:
    import configparser

    from packaging.requirements import Requirement

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = [line.split("#")[0].strip() for line in cfg["options"]["install_requires"].splitlines()]
    return {(req := Requirement(line)).name: str(req.specifier) for line in lines if line}


def test_the_package_accepts_a_labs_own_torch_2x_and_pins_it_only_in_the_install_commands():
    torch_spec = _requirements()["torch"]
    assert "==" not in torch_spec and "<3" in torch_spec and ">=2." in torch_spec
    from packaging.specifiers import SpecifierSet

    assert all(v in SpecifierSet(torch_spec) for v in ("2.5.1", "2.13.0", "2.13.0+cu128"))
    assert "3.0.0" not in SpecifierSet(torch_spec)
    assert 'pip install --quiet "torch==2.13.0"' in (ROOT / "scripts" / "test.sh").read_text()
    assert "pip install torch==2.13.0 && pip install . && neurorx demo" in (ROOT / "README.md").read_text()
