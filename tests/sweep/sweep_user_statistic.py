"""A lab's own statistic, registered in neurorx.analysis.STATISTICS when imported (a spec's ``imports``)."""

import numpy as np

from neurorx.analysis import Statistic, register_statistic

PEAK = register_statistic(Statistic(
    "peak |decoded|", lambda x, circular: np.abs(x).max(axis=(1, 2)), "{u}", key="peak_decoded",
    description="largest absolute decoded coordinate of each trial"))
