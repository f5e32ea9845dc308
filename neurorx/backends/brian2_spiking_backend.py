"""Registers the ``"brian2-spiking"`` backend (its code is the package :mod:`neurorx.backends.brian2_spiking`)."""

from neurorx.backends.brian2_spiking import SpikingBackend, simulate

__all__ = ["SpikingBackend", "simulate"]
