"""Version of the neurorx package."""

__version__ = "0.1.0"
