"""Checks that turn a user's config mistakes into one line before a Runner starts."""
import difflib
import inspect
import json
import os.path as osp
from numbers import Number
from typing import Any, Dict, Iterable, List, Optional

from mmengine.config import Config

from ..errors import UserError
from .classes import check_classes
from .edits import DATALOADERS, leaf_datasets

# dict keys whose 'type' lives in mmengine's TASK_UTILS or WEIGHT_INITIALIZERS registry
TASK_UTIL_KEYS = ('bbox_coder', 'assigner', 'sampler', 'anchor_generator', 'prior_generator',
                  'iou_calculator', 'match_cost')
# keys that builders pop before calling the constructor
BUILDER_KEYS = {'requires_grad', 'layer'}


def _kind(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, Number):
        return 'number'
    if isinstance(value, str):
        return 'str'
    if isinstance(value, dict):
        return 'dict'
    if isinstance(value, (list, tuple)):
        return 'sequence'
    return type(value).__name__


def _registry_for(path: List[str]):
    """The registry of the ``type`` of the dict at ``path`` (its own key is path[-1])."""
    from mmdet import registry as R
    top, key = path[0], path[-1]
    container = path[-2] if len(path) > 1 else ''
    if top == 'model' and key in TASK_UTIL_KEYS:
        return R.TASK_UTILS
    if key == 'init_cfg':
        return R.WEIGHT_INITIALIZERS
    if top.endswith('_dataloader'):
        if container == 'pipeline':
            return R.TRANSFORMS
        if key in ('sampler', 'batch_sampler'):
            return R.DATA_SAMPLERS
        return R.DATASETS if key == 'dataset' or container == 'datasets' else None
    if len(path) == 1 and top in ('train_cfg', 'val_cfg', 'test_cfg'):
        return R.LOOPS
    return {'model': R.MODELS, 'default_hooks': R.HOOKS, 'custom_hooks': R.HOOKS,
            'visualizer': R.VISUALIZERS if len(path) == 1 else R.VISBACKENDS,
            'val_evaluator': R.METRICS, 'test_evaluator': R.METRICS,
            'optim_wrapper': R.OPTIM_WRAPPERS if len(path) == 1 else R.OPTIMIZERS,
            'param_scheduler': R.PARAM_SCHEDULERS, 'log_processor': R.LOG_PROCESSORS,
            }.get(top)


def _resolve(node: dict, path: List[str]):
    registry = _registry_for(path)
    kind = node.get('type')
    if registry is None or not isinstance(kind, str):
        return kind if inspect.isclass(kind) else None
    try:
        return registry.get(kind)
    except Exception:  # noqa: BLE001 - an unknown scope is for the Runner to report
        return None


def _forwarded_kwargs(cls) -> Optional[dict]:
    """Parameters that a class forwards its ``**kwargs`` to, where we know them."""
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner
    if issubclass(cls, CheckpointHook):  # kwargs go to Runner.save_checkpoint
        return dict(inspect.signature(Runner.save_checkpoint).parameters)
    return None


def check_module_args(node: dict, path: List[str], keys: Optional[Iterable[str]] = None) -> None:
    """Raise if ``keys`` (default: all) of a ``type=...`` dict are not constructor arguments."""
    cls = _resolve(node, path)
    if cls is None:
        return
    params = ({} if cls.__init__ is object.__init__ else
              dict(inspect.signature(cls.__init__).parameters))
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        forwarded = _forwarded_kwargs(cls)
        if forwarded is None:
            return
        params.update(forwarded)
    for key in keys if keys is not None else node:
        if key not in params and key not in ('type', '_scope_') and key not in BUILDER_KEYS:
            where = '.'.join(path) or 'the config root'
            allowed = ', '.join(k for k in params if k not in ('self', 'args', 'kwargs'))
            raise UserError(f'{where}: {cls.__name__} takes no argument "{key}" '
                            f'(it takes: {allowed})')


def check_type_known(kind: str, path: List[str], option: str) -> None:
    """Raise if ``kind``, given for the ``type`` of the dict at ``path``, is not in the
    registry that builds it (the closest names as the fix)."""
    registry = _registry_for(path)
    if registry is None or '.' in kind:   # a scoped name is for the Runner to resolve
        return
    if registry.get(kind) is None:
        names, reg = set(), registry
        while reg is not None:   # mmdet's registry and the mmengine one behind it
            names, reg = names | set(reg.module_dict), reg.parent
        near = difflib.get_close_matches(kind, sorted(names), n=3, cutoff=0.6)
        raise UserError(f'--cfg-options {option}: {kind} is not in the {registry.name} '
                        'registry' + (f' (close: {", ".join(near)})' if near else ''))


def validate_cfg_options(cfg: Config, options: Optional[Dict[str, Any]]) -> None:
    """Reject ``--cfg-options`` whose key does not exist or whose value has the wrong kind."""
    for full_key, value in (options or {}).items():
        node: Any = cfg._cfg_dict
        parts = full_key.split('.')
        for depth, part in enumerate(parts):
            here, last = parts[:depth], depth == len(parts) - 1
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise UserError(f'--cfg-options {full_key}: index {part} is out of range '
                                    f'for {".".join(here)} (length {len(node)})')
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise UserError(f'--cfg-options {full_key}: {".".join(here)} is a '
                                f'{type(node).__name__}, it has no key "{part}"')
            if part not in node:
                if last and 'type' in node:
                    check_module_args(node, here, [part])  # a new constructor argument
                    break
                near = ', '.join(sorted(map(str, node))[:12])
                raise UserError(f'--cfg-options {full_key}: no "{part}" in '
                                f'{".".join(here) or "the config root"} (it has: {near})')
            node = node[part]
            if last:
                old, new = _kind(node), _kind(value)
                strs = old == 'sequence' and new == 'str' and all(isinstance(v, str) for v in node)
                if old and new and old != new and not strs:
                    raise UserError(f'--cfg-options {full_key}={value!r}: expected a {old} '
                                    f'like the config\'s {node!r}, got a {new}')
                if part == 'type' and isinstance(value, str):
                    check_type_known(value, here, f'{full_key}={value}')


def check_hooks(cfg: Config) -> None:
    """Every hook's arguments exist, so a typo fails now and not after an epoch."""
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if isinstance(hook, dict):
            check_module_args(hook, ['default_hooks', name])
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict):
            check_module_args(hook, ['custom_hooks', str(i)])


def check_pyramid(cfg: Config) -> None:
    """A SimpleFPN's output strides match the RPN's anchor strides and the RoI extractors'
    featmap strides, which mmdet takes on trust (a mismatch trains, silently wrong)."""
    model = cfg.get('model') or {}
    neck = model.get('neck') or {}
    if neck.get('type') != 'SimpleFPN':
        return
    start, num_outs = neck.get('start_level', 0), neck.get('num_outs', 5)
    strides = [4 * 2 ** (start + i) for i in range(num_outs)]
    where = f'model.neck (start_level={start}, num_outs={num_outs})'
    anchors = ((model.get('rpn_head') or {}).get('anchor_generator') or {}).get('strides')
    if anchors is not None:
        got = [s if isinstance(s, Number) else s[0] for s in anchors]
        if got != strides:
            raise UserError(f'{where} outputs strides {strides}, but '
                            f'model.rpn_head.anchor_generator.strides is {list(anchors)}')
    for name in ('bbox_roi_extractor', 'mask_roi_extractor'):
        extractor = (model.get('roi_head') or {}).get(name) or {}
        got = list(extractor.get('featmap_strides') or strides)
        if got != strides[:len(got)]:
            raise UserError(f'{where} outputs strides {strides}, but model.roi_head.{name}.'
                            f'featmap_strides is {got}: it must be the first of them')


def _check_json(path: str, what: str) -> Optional[str]:
    if not osp.isfile(path):
        return f'{what} {path} does not exist'
    try:
        with open(path, 'rb') as f:
            json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        return f'{what} {path} is not valid JSON ({err})'
    return None


def check_dataset_files(cfg: Config, splits: Iterable[str] = DATALOADERS) -> None:
    """Raise :class:`UserError` naming the first missing or unreadable dataset file, then
    the first disagreement of classes, categories and heads (:func:`check_classes`)."""
    splits = list(splits)
    hint = ('convert the dataset with `python data_prep/pennfudan_to_coco.py --out '
            'data/pennfudan`, or point the tools at it with --data-root DIR '
            '(mmdet tools: PENNFUDAN_DATA=DIR)')
    problems: List[str] = []
    for name in splits:
        if cfg.get(name) is None:
            continue
        for ds in leaf_datasets(cfg[name]['dataset']):
            root = ds.get('data_root') or ''
            if ds.get('ann_file'):
                problem = _check_json(osp.join(root, ds['ann_file']), f'{name}: annotation file')
                problems += [problem] if problem else []
            img_dir = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
            if root and not osp.isdir(img_dir):
                problems.append(f'{name}: image folder {img_dir} does not exist')
        ev_name = name.replace('dataloader', 'evaluator')
        evaluators = cfg.get(ev_name) if name != 'train_dataloader' else None
        for ev in evaluators if isinstance(evaluators, list) else [evaluators or {}]:
            if ev.get('ann_file'):
                problem = _check_json(ev['ann_file'], f'{ev_name}: ground-truth file')
                problems += [problem] if problem else []
    if problems:
        more = f' [+{len(problems) - 1} more]' if len(problems) > 1 else ''
        raise UserError(f'{problems[0]} ({hint}){more}')
    check_classes(cfg, splits)
