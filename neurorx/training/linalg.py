"""The import path ``neurorx.training.linalg``: the module :mod:`neurorx.linalg` itself (not a copy)."""

import sys

from neurorx import linalg

sys.modules[__name__] = linalg
