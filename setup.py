"""Package layout: the top-level ``models/`` folder ships as the package data ``neurorx/_models``.

Everything else (metadata, dependencies, entry points) lives in ``setup.cfg``. The model cards and shipped
networks stay in ``models/`` of the checkout (the layout the paper's scripts use); ``neurorx.zoo`` finds them
there or, in an installed package, under ``neurorx/_models``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["neurorx", "neurorx.*"]), "neurorx._models"],
    package_dir={"neurorx._models": "models"},
    package_data={"neurorx._models": ["*/*.yml", "*/*.npz"]},
)
