"""The classes of a config against its annotation files and its heads, checked before any
work. mmdet's CocoDataset keeps the categories whose names are in ``metainfo['classes']``
(``coco.get_cat_ids(cat_names=classes)``: label i is the i-th of them in the file's order)
and drops every other object without a word; a head whose ``num_classes`` differs trains
and evaluates on labels that mean something else. Each mismatch is one line here."""
import os.path as osp
from collections import Counter
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from mmengine.config import Config

from ..errors import UserError
from ..fileio import read_json
from .edits import DATALOADERS, leaf_datasets

# heads whose num_classes is not the dataset's: the RPN scores objectness only
CLASS_AGNOSTIC_HEADS = ('rpn_head', )
CONFIG_FIX = ("set num_classes = len(metainfo['classes']) in the config, as "
              'configs/custom/deit-tiny_mrcnn_custom-coco_cpu.py does')


def _names(classes: Iterable[str]) -> str:
    """Class names as a config spells them: ``('cat', 'dog')``."""
    return repr(tuple(str(c) for c in classes))


def head_num_classes(node: Any, path: str = 'model') -> List[Tuple[str, int]]:
    """(config path, num_classes) of every head of a model config but the RPN."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_classes' and isinstance(value, int):
                found.append((f'{path}.num_classes', value))
            elif key not in CLASS_AGNOSTIC_HEADS:
                found += head_num_classes(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += head_num_classes(value, f'{path}.{i}')
    return found


def _coco_dataset_class(ds: dict):
    """The dataset's class when it reads COCO files (else None: not ours to check)."""
    from mmdet.datasets import CocoDataset
    from mmdet.registry import DATASETS
    kind = ds.get('type')
    try:
        cls = DATASETS.get(kind) if isinstance(kind, str) else kind
    except Exception:  # noqa: BLE001 - an unknown type is for the Runner to report
        return None
    return cls if isinstance(cls, type) and issubclass(cls, CocoDataset) else None


class _Files:
    """Annotation files read once per check: categories and objects per category name."""

    def __init__(self) -> None:
        self.read: Dict[str, Tuple[List[str], Counter]] = {}

    def __call__(self, path: str, what: str) -> Tuple[List[str], Counter]:
        key = osp.realpath(path)
        if key not in self.read:
            coco = read_json(path, what)
            if not isinstance(coco, dict) or not isinstance(coco.get('categories'), list):
                raise UserError(f'{path}: {what} file is not COCO JSON (no "categories" list)')
            names = [str(c.get('name')) for c in coco['categories']]
            by_id = {c.get('id'): str(c.get('name')) for c in coco['categories']}
            ids = [a.get('category_id') for a in coco.get('annotations') or []
                   if not a.get('iscrowd')]
            objects = Counter(by_id.get(i, f'undeclared category id {i}') for i in ids)
            self.read[key] = names, objects
        return self.read[key]


def check_file_categories(where: str, path: str, classes: Sequence[str], names: List[str],
                          objects: Counter, training: bool) -> None:
    """One annotation file's categories against the classes, as CocoDataset reads it."""
    kept = [n for n in names if n in classes]
    twice = sorted(n for n, k in Counter(kept).items() if k > 1)
    if twice:
        raise UserError(f'{where}: {path} has more than one category named {twice[0]!r}: '
                        'give each category its own name')
    absent = [c for c in classes if c not in names]
    if absent:
        raise UserError(f'{where}: metainfo class {absent[0]!r} is not a category of {path} '
                        f'(it has {_names(names)}): spell the classes as the file does')
    dropped = {n: k for n, k in objects.items() if n not in classes}
    if dropped:
        listed = ', '.join(f'{n!r} ({k})' for n, k in sorted(dropped.items()))
        raise UserError(f'{where}: {path} has objects of categories that metainfo classes '
                        f'{_names(classes)} do not name: {listed}; mmdet would drop them '
                        'silently: add them to the classes or remove them from the file')
    if kept != list(classes):
        raise UserError(f'{where}: metainfo classes {_names(classes)} are not in the order of '
                        f'the categories of {path}, which numbers the labels: list them as '
                        f'{_names(kept)}')
    empty = [c for c in classes if training and not objects.get(c)]
    if empty:
        raise UserError(f'{where}: class {empty[0]!r} has no object (crowd regions aside) in '
                        f'the training file {path}: annotate images of it in the training '
                        'split or drop the class')


def _dataset_classes(where: str, ds: dict, cls, names: List[str]) -> Tuple[str, ...]:
    """The classes a dataset will use: its metainfo's, else the dataset class's own."""
    given = (ds.get('metainfo') or {}).get('classes')
    if given is not None:
        if not given or isinstance(given, str):
            raise UserError(f'{where}.metainfo classes must be a tuple of names, got '
                            f'{given!r}')
        return tuple(given)
    default = tuple(cls.METAINFO.get('classes') or ())
    if [n for n in names if n in default] != list(default):
        shown = _names(default[:3])[:-1].rstrip(',') + (', ...)' if len(default) > 3 else ')')
        raise UserError(f'{where} has no metainfo, so mmdet assumes {cls.__name__}\'s '
                        f'{len(default)} classes {shown}, but its file has categories '
                        f'{_names(names)}: set metainfo=dict(classes={_names(names)}) on '
                        'every dataset')
    return default


def check_classes(cfg: Config, splits: Iterable[str] = DATALOADERS) -> None:
    """Raise :class:`UserError` at the first disagreement between the classes of the
    datasets of ``splits``, their annotation files, the heads and ``cfg.metainfo``."""
    files, seen = _Files(), None
    heads = head_num_classes(cfg.get('model') or {})
    top = (cfg.get('metainfo') or {}).get('classes')
    for name in splits:
        if cfg.get(name) is None:
            continue
        for ds in leaf_datasets(cfg[name]['dataset']):
            cls = _coco_dataset_class(ds)
            if cls is None or not ds.get('ann_file'):
                continue
            where = f'{name}.dataset'
            path = osp.join(ds.get('data_root') or '', ds['ann_file'])
            names, objects = files(path, f'{name} annotation')
            classes = _dataset_classes(where, ds, cls, names)
            for head, num in heads:
                if num != len(classes):
                    raise UserError(f'{head} is {num}, but {where}.metainfo has '
                                    f'{len(classes)} classes {_names(classes)}: {CONFIG_FIX}')
            if top is not None and tuple(top) != classes:
                raise UserError(f'metainfo classes {_names(top)} (the names export and '
                                f'inference print) differ from {where}\'s {_names(classes)}: '
                                "a dataset keeps its base config's metainfo unless the config "
                                'sets train_dataloader = dict(dataset=dict(metainfo=metainfo)),'
                                ' and so on for val and test')
            if seen is not None and seen[1] != classes:
                raise UserError(f'{where}.metainfo classes {_names(classes)} differ from '
                                f'{seen[0]}\'s {_names(seen[1])}: every split needs the same')
            seen = seen or (where, classes)
            check_file_categories(where, path, classes, names, objects,
                                  training=name == 'train_dataloader')
        evaluator = cfg.get(name.replace('dataloader', 'evaluator')) or []
        for ev in evaluator if isinstance(evaluator, list) else [evaluator]:
            kind = str(getattr(ev.get('type'), '__name__', ev.get('type'))).split('.')[-1]
            if seen is not None and kind == 'CocoMetric' and ev.get('ann_file'):
                names, objects = files(ev['ann_file'], 'ground-truth')
                check_file_categories(name.replace('dataloader', 'evaluator'), ev['ann_file'],
                                      seen[1], names, objects, training=False)
