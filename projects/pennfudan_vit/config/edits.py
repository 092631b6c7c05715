"""Config edits every tool shares: data root, input size, pretrained weights."""
import os.path as osp
from typing import Any, Iterable, List, Optional, Tuple

from mmengine.config import Config, ConfigDict

from ..errors import UserError

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')
# transform type -> the argument that holds a (w, h) size
SIZE_STEPS = {'Resize': 'scale', 'RandomResize': 'scale', 'Pad': 'size',
              'RandomCrop': 'crop_size', 'FixShapeResize': 'width'}


def leaf_datasets(dataset: ConfigDict) -> Iterable[ConfigDict]:
    """The leaf datasets of a (possibly wrapped) dataset config."""
    if 'dataset' in dataset:
        yield from leaf_datasets(dataset['dataset'])
    elif 'datasets' in dataset:
        for d in dataset['datasets']:
            yield from leaf_datasets(d)
    else:
        yield dataset


def _evaluators(cfg: Config, name: str) -> List[ConfigDict]:
    ev = cfg.get(name)
    return [] if ev is None else ev if isinstance(ev, list) else [ev]


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every split's dataset and evaluator at ``data_root`` (fold paths kept)."""
    data_root = osp.join(data_root, '')
    old_cfg_root = osp.join(cfg.get('data_root') or '', '')
    for name in DATALOADERS:
        if cfg.get(name) is None:
            continue
        for ds in leaf_datasets(cfg[name]['dataset']):
            old_root = osp.join(ds.get('data_root') or '', '')
            ann = ds.get('ann_file', '')
            if ann and old_root != '/' and ann.startswith(old_root):
                ds['ann_file'] = ann[len(old_root):]
            ds['data_root'] = data_root
    for name in EVALUATORS:
        for ev in _evaluators(cfg, name):
            ann = ev.get('ann_file')
            if ann:
                ann = osp.normpath(ann)
                root = osp.normpath(old_cfg_root) + osp.sep
                rel = (ann[len(root):] if old_cfg_root != '/' and ann.startswith(root)
                       else osp.join('annotations', osp.basename(ann)))
                ev['ann_file'] = osp.join(data_root, rel)
    cfg['data_root'] = data_root


def _step_type(step: dict) -> str:
    kind = step.get('type', '')
    return getattr(kind, '__name__', str(kind)).split('.')[-1]


def pipelines(cfg: Config) -> Iterable[Tuple[str, list]]:
    """(dataloader name, pipeline list) for every leaf dataset of every split."""
    for name in DATALOADERS:
        if cfg.get(name) is not None:
            for ds in leaf_datasets(cfg[name]['dataset']):
                yield name, ds.get('pipeline', [])


def set_input_size(cfg: Config, size: Tuple[int, int]) -> None:
    """Set every size-dependent pipeline step (by type) and the ViT ``img_size`` to (h, w)."""
    h, w = size
    if h <= 0 or w <= 0 or h % 32 or w % 32:
        raise UserError(f'input size {h}x{w}: both sides must be positive multiples of 32')
    for name, pipeline in pipelines(cfg):
        changed = 0
        for step in pipeline:
            kind = _step_type(step)
            key = SIZE_STEPS.get(kind)
            if key is None or step.get(key) is None:
                continue
            if kind == 'FixShapeResize':
                step.update(width=w, height=h)
            elif kind == 'RandomCrop' and step.get('crop_type', 'absolute').startswith('relative'):
                continue  # a fraction of the image: size-independent
            elif kind == 'RandomCrop' and step.get('crop_type') == 'absolute_range':
                # a (min, max) side range cannot say H x W; a fixed crop can
                step.update(crop_size=(h, h)) if h == w else step.update(
                    crop_type='absolute', crop_size=(w, h))
            else:
                step[key] = (w, h)
            changed += 1
        if not changed:
            raise UserError(f'input size: the {name} pipeline has no size-dependent step '
                            f'({", ".join(SIZE_STEPS)}) to change')
    backbone = cfg.model.get('backbone', {})
    if 'img_size' in backbone:
        backbone['img_size'] = h if h == w else (h, w)


def pipeline_size(cfg: Config, name: str) -> Optional[List[int]]:
    """``[h, w]`` fixed by the last resize or pad step of a dataloader's pipeline."""
    size = None
    for loader, pipeline in pipelines(cfg):
        if loader != name:
            continue
        for step in pipeline:
            kind = _step_type(step)
            value = step.get(SIZE_STEPS.get(kind, ''))
            if kind in ('Resize', 'RandomResize', 'Pad') and value:
                size = [value, value] if isinstance(value, int) else [value[1], value[0]]
        break
    return size


def drop_pretrained(cfg: Config) -> List[str]:
    """Remove ``Pretrained`` init configs and ``load_from``; return what was dropped."""
    dropped = _drop_pretrained_init(cfg.model, 'model')
    if cfg.get('load_from'):
        dropped.append('load_from')
        cfg.load_from = None
    return dropped


def _drop_pretrained_init(node: Any, path: str) -> List[str]:
    dropped = []
    if isinstance(node, dict):
        for key in list(node):
            value, where = node[key], f'{path}.{key}'
            if key == 'init_cfg' and isinstance(value, dict) and value.get('type') == 'Pretrained':
                node[key] = None
                dropped.append(where)
            elif key == 'init_cfg' and isinstance(value, list):
                kept = [v for v in value
                        if not (isinstance(v, dict) and v.get('type') == 'Pretrained')]
                if len(kept) < len(value):
                    node[key] = kept or None
                    dropped.append(where)
            else:
                dropped += _drop_pretrained_init(value, where)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            dropped += _drop_pretrained_init(value, f'{path}.{i}')
    return dropped


def add_tensorboard(cfg: Config, interval: int = 5) -> None:
    """Log scalars to TensorBoard beside the local files, and every ``interval``-th
    validation image with its predictions."""
    backends = cfg.visualizer.setdefault('vis_backends', [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    cfg.default_hooks.setdefault('visualization', dict(type='DetVisualizationHook'))
    cfg.default_hooks.visualization.update(draw=True, interval=interval)
