"""Checks that turn config mistakes into one-line errors before a Runner starts.

mmengine silently adds any ``--cfg-options`` key (a typo becomes a new, unused
key or a TypeError deep in a constructor) and only notices a wrong
``data_root`` when a dataloader first reads. These helpers fail early, naming
the key or the missing file.
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional

from mmengine.config import Config, ConfigDict

SPLIT_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
SPLIT_EVALUATORS = ('val_evaluator', 'test_evaluator')


class ConfigCheckError(ValueError):
    """A config value or a file it names is wrong."""


def validate_cfg_options(cfg: Config, options: Optional[Dict[str, object]]) -> None:
    """Reject ``--cfg-options`` keys that do not exist in ``cfg``.

    Every intermediate key must exist. A new leaf key is allowed only inside a
    module config (a dict with ``type``), where it is a constructor argument.
    """
    for full_key in options or {}:
        node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        parts = full_key.split('.')
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise ConfigCheckError(
                        f'--cfg-options key "{full_key}": index {part} is out of range '
                        f'for {".".join(parts[:depth]) or "<root>"} (length {len(node)})')
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise ConfigCheckError(
                    f'--cfg-options key "{full_key}": "{".".join(parts[:depth])}" is '
                    f'{type(node).__name__}, not a dict, so it has no key "{part}"')
            if part not in node:
                if last and 'type' in node:
                    break  # new argument of a module config
                where = '.'.join(parts[:depth]) or 'the config root'
                near = ', '.join(sorted(map(str, node))[:12])
                raise ConfigCheckError(
                    f'--cfg-options key "{full_key}" does not exist: no "{part}" in '
                    f'{where} (it has: {near})')
            node = node[part]


def leaf_datasets(dataset: ConfigDict) -> Iterable[ConfigDict]:
    """The leaf datasets of a (possibly wrapped) dataset config."""
    if 'dataset' in dataset:
        yield from leaf_datasets(dataset['dataset'])
    elif 'datasets' in dataset:
        for d in dataset['datasets']:
            yield from leaf_datasets(d)
    else:
        yield dataset


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every split's dataset and evaluator JSON at ``data_root``."""
    data_root = osp.join(data_root, '')
    old_cfg_root = cfg.get('data_root') or ''
    for name in SPLIT_DATALOADERS:
        if cfg.get(name) is None:
            continue
        for ds in leaf_datasets(cfg[name]['dataset']):
            old_root = ds.get('data_root', '')
            ds['data_root'] = data_root
            ann = ds.get('ann_file', '')
            if ann and old_root and ann.startswith(old_root):
                ds['ann_file'] = ann[len(old_root):]
    for name in SPLIT_EVALUATORS:
        evaluators = cfg.get(name)
        if evaluators is None:
            continue
        for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
            ann = ev.get('ann_file')
            if ann:
                rel = (ann[len(old_cfg_root):] if old_cfg_root and ann.startswith(old_cfg_root)
                       else osp.join('annotations', osp.basename(ann)))
                ev['ann_file'] = osp.join(data_root, rel)
    cfg['data_root'] = data_root


def check_dataset_files(cfg: Config, splits: Iterable[str] = SPLIT_DATALOADERS) -> None:
    """Raise :class:`ConfigCheckError` naming the first missing annotation file,
    image folder or evaluator ground truth of the given dataloaders."""
    hint = ('create it with `python data_prep/pennfudan_to_coco.py --src '
            '../shared/data/PennFudanPed --out data/pennfudan` or point the config '
            'at it with --data-root DIR')
    missing: List[str] = []
    for name in splits:
        if cfg.get(name) is None:
            continue
        for ds in leaf_datasets(cfg[name]['dataset']):
            root = ds.get('data_root') or ''
            ann = ds.get('ann_file')
            if ann:
                path = ann if osp.isabs(ann) else osp.join(root, ann)
                if not osp.isfile(path):
                    missing.append(f'{name}: annotation file {path} does not exist')
            img_dir = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
            if root and not osp.isdir(img_dir):
                missing.append(f'{name}: image folder {img_dir} does not exist')
        ev_name = name.replace('dataloader', 'evaluator')
        evaluators = cfg.get(ev_name) if name != 'train_dataloader' else None
        for ev in (evaluators if isinstance(evaluators, list) else [evaluators or {}]):
            if ev.get('ann_file') and not osp.isfile(ev['ann_file']):
                missing.append(f'{ev_name}: ground-truth file {ev["ann_file"]} does not exist')
    if missing:
        raise ConfigCheckError(f'{missing[0]} ({hint})' + (
            f' [+{len(missing) - 1} more]' if len(missing) > 1 else ''))
