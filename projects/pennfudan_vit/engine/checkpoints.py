"""Checkpoints in training runs: safe loading under torch>=2.6, readable download errors
and atomic saving (loading weights into a detector is :mod:`pennfudan_vit.detector`).

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7
calls ``torch.load`` without the argument, and its checkpoints hold a few
non-tensor objects (the MessageHub's ``HistoryBuffer`` and the numpy arrays and
scalars inside it). Instead of switching the protection off, exactly those
classes are allow-listed; ``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``, so the pickled ``builtins.getattr`` maps to
a getattr that resolves only those methods.
"""
import functools
import os
import pickle
from typing import Any, Callable, List, Optional

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader

from ..errors import UserError
from ..fileio import atomic_write_bytes


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


REMOTE_PREFIXES = ('http://', 'https://', 'modelzoo://', 'torchvision://',
                   'open-mmlab://', 'openmmlab://', 'mmcls://')


class CheckpointDownloadError(UserError):
    """A remote checkpoint could not be downloaded."""


def _hint(filename: str, err: BaseException) -> str:
    """One line: what failed, and the two config keys a local copy can go to."""
    name = os.path.basename(filename.split('?')[0])
    cache = os.path.join(torch.hub.get_dir(), 'checkpoints')
    reason = ' '.join(f'{type(err).__name__}: {err}'.split())
    return (f'could not download checkpoint {filename} ({reason}); fetch it elsewhere and '
            f'pass a local copy: --cfg-options load_from=/path/to/{name} for a whole '
            f'detector (a config\'s load_from) or '
            f'model.backbone.init_cfg.checkpoint=/path/to/{name} for backbone weights, '
            f'or copy it to {cache}/{name}; to go without it set load_from=None or '
            f'model.backbone.init_cfg=None')


def _with_hint(loader: Callable) -> Callable:
    if getattr(loader, '_pennfudan_wrapped', False):
        return loader

    @functools.wraps(loader)
    def wrapped(filename, *args, **kwargs):
        try:
            return loader(filename, *args, **kwargs)
        except (OSError, ConnectionError, TimeoutError) as err:  # URLError is an OSError
            raise CheckpointDownloadError(_hint(filename, err)) from err

    wrapped._pennfudan_wrapped = True
    return wrapped


def register_checkpoint_download_hints() -> None:
    """Wrap mmengine's remote checkpoint loaders (idempotent)."""
    for prefix in REMOTE_PREFIXES:
        loader = CheckpointLoader._schemes.get(prefix)
        if loader is not None:
            CheckpointLoader.register_scheme(prefix, _with_hint(loader), force=True)


class AtomicLocalBackend(LocalBackend):
    """Local files written through a temporary file and a rename, so a kill
    never leaves a truncated checkpoint under its final name."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(str(filepath), obj.encode(encoding))


register_backend('atomic_local', AtomicLocalBackend, force=True)
