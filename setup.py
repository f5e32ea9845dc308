"""Package layout: the top-level ``models/`` and ``protocols/`` folders ship as package data.

Everything else (metadata, dependencies, entry points) lives in ``setup.cfg``. The model cards and shipped
networks stay in ``models/`` of the checkout; ``neurorx.zoo`` finds them there or, in an installed package,
under ``neurorx/_models``. The example scripts and sweep specs of ``protocols/`` ship as ``neurorx/_protocols``
(``neurorx examples copy DIR`` copies them out, see ``neurorx.examples``).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["neurorx", "neurorx.*"]), "neurorx._models", "neurorx._protocols"],
    package_dir={"neurorx._models": "models", "neurorx._protocols": "protocols"},
    package_data={"neurorx._models": ["*/*.yml", "*/*.npz"],
                  "neurorx._protocols": ["*.py", "*.md", "sweeps/*.py", "sweeps/*.yaml"]},
)
