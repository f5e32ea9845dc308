"""Files: neurorx's own ``.npz`` + JSON files (:mod:`~neurorx.io.files`) and NWB (:mod:`~neurorx.io.nwb`).

- :mod:`neurorx.io.files` -- plain ``.npz`` arrays plus JSON metadata, atomic writes, never a pickle
  (``read_npz``, ``write_npz``, ``atomic_write_bytes``, ``check_output_file``, ``check_output_dir``); its
  names are re-exported here, so ``neurorx.io.read_npz`` works.
- :mod:`neurorx.io.nwb` -- Neurodata Without Borders files: ``write`` a :class:`~neurorx.Recording`,
  ``read`` a lab's recording into decoded trajectories. It needs the optional extra ``neurorx[data]``
  (pynwb, pynapple, nwbinspector); importing the module does not.
"""

from neurorx.io import nwb
from neurorx.io.files import (
    META_KEY,
    CorruptFileError,
    atomic_write_bytes,
    check_output_dir,
    check_output_file,
    read_npz,
    write_npz,
)

__all__ = [
    "META_KEY",
    "CorruptFileError",
    "atomic_write_bytes",
    "check_output_dir",
    "check_output_file",
    "nwb",
    "read_npz",
    "write_npz",
]
