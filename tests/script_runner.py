"""Run a script of this repository (``protocols/``, ``benchmarks/``) in the test process, as ``python script.py``.

A script run in the test process pays neither the start of a Python process (importing torch, Brian2 and
neurorx again) nor Brian2's Cython compilation (the tests' ``target="auto"`` is numpy, ``tests/conftest.py``).
Each kind of script keeps one test that runs it as its own process, on the real command line.
"""

import runpy
import sys
from pathlib import Path


def run_script(path: Path, args, monkeypatch, capsys, cwd: Path) -> tuple[int, str]:
    """Run the script ``path`` with the command line ``args``, in ``cwd``, in this process.

    As ``python path args`` does, the script runs as ``__main__`` with its folder first on ``sys.path``.
    Returns the exit status (0; or the code of the ``SystemExit`` the script raised, where a message counts as 1
    and is printed to stderr, as Python does) and what the script printed (stdout, then stderr). Figures it
    left open are closed, and torch's thread count (which a script may set) is restored.
    """
    import matplotlib.pyplot as plt
    import torch

    path = Path(path)
    threads = torch.get_num_threads()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [str(path), *map(str, args)])
    monkeypatch.syspath_prepend(str(path.parent))
    capsys.readouterr()
    status = 0
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as stop:
        if stop.code is not None and not isinstance(stop.code, int):
            print(stop.code, file=sys.stderr)
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        plt.close("all")
        torch.set_num_threads(threads)
    printed = capsys.readouterr()
    return status, printed.out + printed.err
