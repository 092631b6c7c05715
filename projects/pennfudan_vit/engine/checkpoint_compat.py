"""Let mmengine 0.10.7 checkpoints load under torch>=2.6 ``weights_only=True``.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints hold a few
non-tensor objects (the MessageHub's ``HistoryBuffer`` and the numpy arrays and
scalars inside it), so ``--resume`` and ``load_from`` fail with
``UnpicklingError: Weights only load failed``.

Instead of switching the protection off (``weights_only=False`` everywhere), we
allow-list exactly those classes with ``torch.serialization.add_safe_globals``.
``HistoryBuffer`` also pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``; the pickled name ``builtins.getattr`` is
mapped to a restricted getattr that resolves only those methods. Anything else
in a checkpoint is still refused by torch's safe unpickler.
"""
import pickle
from typing import Any, List

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


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to the methods of mmengine's ``HistoryBuffer``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and callable(vars(HistoryBuffer).get(name)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load refused getattr({obj!r}, {name!r}): only '
        f'HistoryBuffer methods may be resolved this way')


def mmengine_safe_globals() -> List[object]:
    """What an mmengine Runner checkpoint needs besides tensors: classes, and
    ``(callable, pickled_name)`` pairs for names that map to a safer callable."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, *_numpy_globals(), (history_buffer_getattr, 'builtins.getattr')]


def register_mmengine_safe_globals() -> None:
    """Allow-list :func:`mmengine_safe_globals` for ``torch.load`` (idempotent)."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no weights_only default to fix
        add(mmengine_safe_globals())
