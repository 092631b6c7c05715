"""Checkpoints: safe loading under torch>=2.6, readable download errors, strict
checks for testing, and atomic saving.

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
import os.path as osp
import pickle
import re
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


def config_of_checkpoint(checkpoint: Any) -> Optional[str]:
    """The config name a Runner checkpoint was trained with (from its ``meta``)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    name = (meta or {}).get('experiment_name')
    return re.sub(r'_\d{8}_\d{6}$', '', name) if name else None


def check_checkpoint_matches(model: torch.nn.Module, path: str, config: str) -> dict:
    """Load ``path`` into ``model``; raise :class:`UserError` unless every weight fits.

    ``load_state_dict`` runs the modules' own load hooks (mmpretrain resizes a
    ViT's position embedding to the input size), so only real mismatches count.
    """
    if not osp.isfile(path):
        raise UserError(f'checkpoint {path} does not exist')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(f'checkpoint {path} cannot be read ({type(err).__name__}: '
                        f'{str(err).splitlines()[0][:200]})') from err
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    try:
        result = getattr(model, 'module', model).load_state_dict(state, strict=False)
        missing, unexpected, mismatched = result.missing_keys, result.unexpected_keys, []
    except RuntimeError as err:
        mismatched = re.findall(r'size mismatch for ([\w.]+)', str(err))
        missing = re.findall(r'Missing key\(s\) in state_dict: (.*)', str(err))
        unexpected = []
    if missing or mismatched or unexpected:
        trained = config_of_checkpoint(checkpoint)
        parts = [f'{len(missing)} missing (e.g. {", ".join(missing[:3])})' if missing else '',
                 f'{len(mismatched)} of another shape (e.g. {", ".join(mismatched[:3])})'
                 if mismatched else '',
                 f'{len(unexpected)} unexpected (e.g. {", ".join(unexpected[:3])})'
                 if unexpected else '']
        raise UserError(
            f'checkpoint {path} does not match config {config}: weights '
            f'{", ".join(p for p in parts if p)}; it was trained with '
            + (f'configs/{trained}.py' if trained else 'an unknown config'))
    return checkpoint


def check_checkpoint_for_config(cfg, path: str, config: str) -> dict:
    """:func:`check_checkpoint_matches` on a model built from ``cfg`` alone, before a
    Runner creates folders or data loaders."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return check_checkpoint_matches(MODELS.build(cfg.model), path, config)
