"""The ``"brian2"`` backend under its registry module name (:func:`neurorx.backends.get_backend` imports
``neurorx.backends.<name>_backend``): this module is :mod:`neurorx.backends.brian2.run`, so its names,
:func:`simulate`, :func:`build_network`, :class:`Brian2Backend`, ... are those of the package
:mod:`neurorx.backends.brian2`.
"""

import sys

from neurorx.backends.brian2 import run

sys.modules[__name__] = run
