"""The protocol runner under its earlier module name: this module is :mod:`neurorx.protocol_runner`."""

import sys

from neurorx import protocol_runner

sys.modules[__name__] = protocol_runner
