"""The converter's K-fold files (checked to be a K-fold partition) and the fold configs:
``W/fold{k}.py``, the user's config with the command line applied, on fold k's files
(``W/fold{k}_test_split.py``: tested on the test split); whole, ordinary configs."""
import copy
import os.path as osp
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

from ..config import leaf_datasets
from ..errors import UserError
from ..fileio import read_json

TEST_ANN = 'annotations/instances_test.json'


def fold_ann(k: int, part: str) -> str:
    """The annotation file of fold ``k``'s ``train`` or held-out ``val`` part, under a data root."""
    return f'annotations/folds/fold{k}_{part}.json'


@dataclass
class FoldSplit:
    """Image counts per fold (train, held out), of the test split, and the split seed."""
    n_train: List[int]
    n_val: List[int]
    n_test: Optional[int]
    seed: Any


def _coco_images(path: str, hint: str = '') -> Tuple[set, dict]:
    """The image file names of a COCO file, and its ``info``."""
    data = read_json(path, 'fold annotation', hint)
    if not isinstance(data.get('images'), list):
        raise UserError(f'{path} is no COCO annotation file (no "images" list)')
    return {img['file_name'] for img in data['images']}, data.get('info') or {}


def check_folds(data_root: str, folds: int, need_test: bool = False) -> FoldSplit:
    """Check the fold files under ``data_root`` form a ``folds``-fold partition of the
    non-test images, disjoint from the test split; return their counts."""
    hint = (f'; run the converter with --folds {folds}: python data_prep/pennfudan_to_coco.py '
            f'--src $PENNFUDAN_SRC --out {data_root} --folds {folds} --overwrite')
    if not osp.isdir(data_root):
        raise UserError(f'data root {data_root} does not exist{hint}')
    files = {}
    for k in range(folds):
        for part in ('train', 'val'):
            path = osp.join(data_root, fold_ann(k, part))
            if not osp.isfile(path):
                raise UserError(f'fold file {path} does not exist{hint}')
            files[part, k] = _coco_images(path, hint)
            n = files[part, k][1].get('num_folds') or folds
            if n != folds:
                raise UserError(f'{path} belongs to a {n}-fold split, not {folds}: pass '
                                f'--folds {n}, or{hint[1:]}')
    train, val = ([files[part, k][0] for k in range(folds)] for part in ('train', 'val'))
    pool = set().union(*val)
    if sum(map(len, val)) != len(pool):
        raise UserError(f'an image is held out by two of the {folds} folds{hint}')
    for k in range(folds):
        if train[k] != pool - val[k]:
            raise UserError(f'fold {k} in {osp.join(data_root, "annotations/folds")} is not part '
                            f'of a {folds}-fold partition: it does not train on exactly the '
                            f'images the other folds hold out{hint}')
    test, n_test = osp.join(data_root, TEST_ANN), None
    if osp.isfile(test):
        images = _coco_images(test)[0]
        if images & pool:
            raise UserError(f'{len(images & pool)} images of {test} are in the folds: the '
                            f'test split must be held out{hint}')
        n_test = len(images)
    elif need_test:
        raise UserError(f'--also-test: test split {test} does not exist')
    return FoldSplit([len(s) for s in train], [len(s) for s in val], n_test,
                     files['train', 0][1].get('seed'))


def check_option_keys(keys: List[str]) -> None:
    """Refuse ``--cfg-options`` keys that would move a fold's data root or annotation files."""
    for key in keys:
        if key.split('.')[-1] in ('data_root', 'ann_file') or re.fullmatch(
                r'(train|val|test)_(dataloader(\.dataset)*|evaluator(\.\d+)?)', key):
            raise UserError(f'--cfg-options {key}: cross_val.py sets the data root and '
                            'annotation files of every fold; choose the dataset with --data-root')


def _pointed_at(cfg: Config, root: str, anns: Dict[str, str]) -> Config:
    """A copy of ``cfg`` whose ``<split>_dataloader`` and ``_evaluator`` read ``anns[split]``."""
    cfg = copy.deepcopy(cfg)
    cfg.data_root = root
    for split, ann in anns.items():
        if cfg.get(f'{split}_dataloader') is None:
            continue
        leaves = list(leaf_datasets(cfg[f'{split}_dataloader'].dataset))
        if len(leaves) > 1:
            raise UserError(f'{split}_dataloader concatenates {len(leaves)} datasets; '
                            'cross-validation needs one dataset per split')
        leaves[0].update(data_root=root, ann_file=ann)
        evaluators = cfg.get(f'{split}_evaluator') or []
        for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
            if 'ann_file' in ev:
                ev.ann_file = root + ann
    return cfg


def fold_configs(config: str, cfg: Config, data_root: str, folds: int,
                 also_test: bool) -> Dict[str, str]:
    """File name (in the work dir) -> text of every fold's config: ``cfg`` (the user's
    config with the command line applied) on fold k's files, and on the test split."""
    for name in ('test_dataloader', 'test_evaluator'):
        if cfg.get(name) is None:
            raise UserError(f'{config} has no {name}: cross_val.py tests each fold model with it')
    root, texts = osp.join(data_root, ''), {}
    for k in range(folds):
        train_ann, heldout = fold_ann(k, 'train'), fold_ann(k, 'val')
        fold = _pointed_at(cfg, root, dict(train=train_ann, val=heldout, test=heldout))
        head = (f'# {config} on fold {k} of {folds}, written by tools/cross_val.py:\n'
                f'# trains on {train_ann}, validates on {heldout}, tests on ')
        texts[f'fold{k}.py'] = f'{head}{heldout}.\n{fold.pretty_text}'
        if also_test:
            texts[f'fold{k}_test_split.py'] = f'{head}{TEST_ANN}.\n' + _pointed_at(
                fold, root, dict(test=TEST_ANN)).pretty_text
    return texts
