"""Per-fold child configs: the user's config, pointed at one fold's annotation files.

``W/fold{k}.py`` inherits the user's config and sets only the data root and
annotation files: fold k's train file for training, its held-out file for
validation and testing. ``W/fold{k}_test_split.py`` inherits that and tests on
the fixed test split. ``tools/train.py`` and ``tools/test.py`` take them like
any config (with the user's ``--cfg-options``), so a fold can be rerun by hand.
"""
import os.path as osp
from typing import Dict, List

from mmengine.config import Config

from ..errors import UserError
from .folds import TEST_ANN, fold_ann

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _leaf_path(cfg: Config, loader: str) -> List[str]:
    """Keys from ``loader`` down to its one leaf dataset (through dataset wrappers)."""
    path, node = ['dataset'], cfg[loader]['dataset']
    while 'dataset' in node:
        path, node = path + ['dataset'], node['dataset']
    if 'datasets' in node:
        raise UserError(f'{loader} concatenates {len(node["datasets"])} datasets; '
                        'cross-validation needs one dataset per split')
    return path


def _evaluators(cfg: Config, name: str) -> list:
    ev = cfg.get(name)
    return [] if ev is None else ev if isinstance(ev, list) else [ev]


def managed_keys(cfg: Config) -> List[str]:
    """The config keys the fold configs set (a ``--cfg-options`` key must not touch them)."""
    keys = ['data_root']
    for loader in DATALOADERS:
        if cfg.get(loader) is not None:
            leaf = '.'.join([loader] + _leaf_path(cfg, loader))
            keys += [f'{leaf}.data_root', f'{leaf}.ann_file']
    for name in ('val_evaluator', 'test_evaluator'):
        if isinstance(cfg.get(name), list):
            keys += [f'{name}.{i}.ann_file' for i, ev in enumerate(cfg[name]) if 'ann_file' in ev]
        elif cfg.get(name) is not None and 'ann_file' in cfg[name]:
            keys.append(f'{name}.ann_file')
    return keys


def check_option_keys(cfg: Config, keys: List[str]) -> None:
    """Refuse ``--cfg-options`` keys that would override a fold's data."""
    managed = managed_keys(cfg)
    for key in keys:
        for ours in managed:
            if key == ours or ours.startswith(key + '.') or key.startswith(ours + '.'):
                raise UserError(f'--cfg-options {key}: cross_val.py sets {ours} for every '
                                'fold; choose the dataset with --data-root')


def _split_lines(cfg: Config, split: str, root: str, ann: str) -> List[str]:
    """``<split>_dataloader`` and ``<split>_evaluator`` on ``root + ann``."""
    loader, lines = f'{split}_dataloader', []
    if cfg.get(loader) is None:
        return lines
    text = f'dict(data_root=data_root, ann_file={ann!r})'
    for key in reversed(_leaf_path(cfg, loader)):
        text = f'dict({key}={text})'
    lines.append(f'{loader} = {text}')
    name = f'{split}_evaluator'
    evaluators = cfg.get(name)
    if isinstance(evaluators, list):  # inheritance replaces a list whole
        items = [dict(ev.to_dict(), ann_file=root + ann) if 'ann_file' in ev else ev.to_dict()
                 for ev in evaluators]
        lines.append(f'{name} = {items!r}')
    elif evaluators is not None and 'ann_file' in evaluators:
        lines.append(f'{name} = dict(ann_file=data_root + {ann!r})')
    return lines


def fold_config_text(config: str, cfg: Config, data_root: str, k: int, folds: int) -> str:
    """``fold{k}.py``: ``config`` trained on fold k, validated and tested on its held-out part."""
    for name in ('test_dataloader', 'test_evaluator'):
        if cfg.get(name) is None:
            raise UserError(f'{config} has no {name}: cross_val.py tests each fold model with it')
    root = osp.join(data_root, '')
    lines = [f'# Fold {k} of {folds}, written by tools/cross_val.py: trains on '
             f'{fold_ann(k, "train")},', f'# validates and tests on its held-out '
             f'{fold_ann(k, "val")}.', f'_base_ = [{osp.abspath(config)!r}]', '',
             f'data_root = {root!r}']
    for split, part in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        lines += _split_lines(cfg, split, root, fold_ann(k, part))
    return '\n'.join(lines) + '\n'


def test_split_config_text(cfg: Config, data_root: str, k: int) -> str:
    """``fold{k}_test_split.py``: ``fold{k}.py`` tested on the fixed test split."""
    root = osp.join(data_root, '')
    lines = [f'# The fold {k} model on the fixed test split, written by tools/cross_val.py.',
             f"_base_ = ['./fold{k}.py']", '', f'data_root = {root!r}']
    return '\n'.join(lines + _split_lines(cfg, 'test', root, TEST_ANN)) + '\n'


def fold_config_path(work_dir: str, k: int, test_split: bool = False) -> str:
    """Where ``W/fold{k}.py`` (or ``W/fold{k}_test_split.py``) lies."""
    return osp.join(work_dir, f'fold{k}{"_test_split" if test_split else ""}.py')


def fold_configs(config: str, cfg: Config, data_root: str, folds: int,
                 also_test: bool) -> Dict[str, str]:
    """File name (in the work dir) -> text of every fold's child config."""
    texts = {}
    for k in range(folds):
        texts[osp.basename(fold_config_path('', k))] = fold_config_text(
            config, cfg, data_root, k, folds)
        if also_test:
            texts[osp.basename(fold_config_path('', k, True))] = test_split_config_text(
                cfg, data_root, k)
    return texts
