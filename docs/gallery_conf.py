"""Settings of the executed example gallery (mkdocs-gallery's ``conf_script``).

The gallery runs every script in ``protocols/`` while the docs are built. Unless the environment says
otherwise, it runs them at their small sizes (``NEURORX_EXAMPLE_SIZE=small``, see :mod:`neurorx.examples`), so
that ``mkdocs build`` stays fast; ``NEURORX_EXAMPLE_SIZE=full python -m mkdocs build`` runs them in full.
``NEURORX_EXAMPLE_SIZE=none`` renders the scripts without running them (a quick check of the pages).
"""

import os
import warnings

# Brian2's parser uses pyparsing names that pyparsing 3.3 deprecates: not the examples' concern
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(brian2|pyparsing)(\.|$)")

os.environ.setdefault("NEURORX_EXAMPLE_SIZE", "small")
_RUN = os.environ["NEURORX_EXAMPLE_SIZE"].strip().lower() != "none"


def _no_arguments(script):
    """Every example runs with its defaults (mkdocs' own command line is not passed on)."""
    return []


conf = {"reset_argv": _no_arguments, "plot_gallery": _RUN}
