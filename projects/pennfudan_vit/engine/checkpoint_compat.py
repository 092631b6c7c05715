"""Let mmengine 0.10.7 checkpoints load under torch>=2.6 ``weights_only=True``.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints hold a few
non-tensor objects (the MessageHub's ``HistoryBuffer`` and the numpy arrays and
scalars inside it), so ``--resume`` and ``load_from`` fail with
``UnpicklingError: Weights only load failed``.

Instead of switching the protection off (``weights_only=False`` everywhere), we
allow-list exactly those classes with ``torch.serialization.add_safe_globals``.
Anything else in a checkpoint is still refused by torch's safe unpickler.
"""
from typing import List

import numpy as np
import torch


def _numpy_globals() -> List[object]:
    """numpy objects that pickled arrays/scalars reference (numpy 1.x and 2.x)."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in
                     ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                      'uint32', 'uint64', 'float16', 'float32', 'float64')]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtype_classes]


def mmengine_safe_globals() -> List[object]:
    """The classes an mmengine Runner checkpoint needs besides tensors."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, *_numpy_globals()]


def register_mmengine_safe_globals() -> None:
    """Allow-list :func:`mmengine_safe_globals` for ``torch.load`` (idempotent)."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no weights_only default to fix
        add(mmengine_safe_globals())
