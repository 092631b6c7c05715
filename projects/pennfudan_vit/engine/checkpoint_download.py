"""Readable errors for checkpoints that must be downloaded (``init_cfg`` URLs).

mmengine's URL loaders raise a bare ``URLError`` deep inside ``init_weights``
when there is no network. We wrap the loaders of the remote schemes so the
failure says which checkpoint could not be fetched and how to pass a local
copy instead (a path in the config, or the file in torch's hub cache).
"""
import functools
import os
from typing import Callable

import torch
from mmengine.runner.checkpoint import CheckpointLoader

REMOTE_PREFIXES = ('http://', 'https://', 'modelzoo://', 'torchvision://',
                   'open-mmlab://', 'openmmlab://', 'mmcls://')


class CheckpointDownloadError(RuntimeError):
    """A remote checkpoint could not be downloaded."""


def _hint(filename: str, err: BaseException) -> str:
    name = os.path.basename(filename.split('?')[0])
    cache = os.path.join(torch.hub.get_dir(), 'checkpoints')
    return (f'could not download checkpoint {filename} ({type(err).__name__}: {err}). '
            f'Without network access, fetch it elsewhere and either pass the local file, '
            f'e.g. --cfg-options model.backbone.init_cfg.checkpoint=/path/to/{name}, '
            f'or copy it to {cache}/{name}; to train from random init use '
            f'--cfg-options model.backbone.init_cfg=None')


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
