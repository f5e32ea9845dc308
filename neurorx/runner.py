"""The import path ``neurorx.runner``: the protocol runner :mod:`neurorx.protocol_run`, under its earlier name.

``import neurorx.runner`` gives the module :mod:`neurorx.protocol_run` itself (not a copy), so attributes set on
one are seen through the other.
"""

import sys

from neurorx import protocol_run

sys.modules[__name__] = protocol_run
