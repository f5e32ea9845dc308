"""Path-integration tasks of Krishna et al. (ICLR 2024): spatial navigation and head direction.

>>> from neurorx.tasks import SpatialNavigation
>>> task = SpatialNavigation(biased=True)
>>> batch = task.sample(batch=200, steps=100, seed=0)
>>> batch.inputs.shape, batch.targets.shape
((200, 100, 2), (200, 100, 512))

``TASKS`` maps registry names to classes; ``Task.from_card(params, arrays)`` rebuilds any task from its card.
"""

from neurorx.tasks.base import TASKS, Task, TaskBatch
from neurorx.tasks.cells import HD_CODES, PLACE_CODES, HeadDirectionCells, PlaceCells
from neurorx.tasks.head_direction import HeadDirection, wrap_angle
from neurorx.tasks.spatial import SpatialNavigation
from neurorx.tasks.trajectories import MeasuredHeadDirection, MeasuredSpatial

__all__ = [
    "HD_CODES",
    "PLACE_CODES",
    "TASKS",
    "HeadDirection",
    "HeadDirectionCells",
    "MeasuredHeadDirection",
    "MeasuredSpatial",
    "PlaceCells",
    "SpatialNavigation",
    "Task",
    "TaskBatch",
    "wrap_angle",
]
