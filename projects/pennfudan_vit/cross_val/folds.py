"""The converter's K-fold files: where they are, and that they form a K-fold partition."""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..errors import UserError

TEST_ANN = 'annotations/instances_test.json'


def fold_ann(k: int, part: str) -> str:
    """The annotation file of fold ``k``'s ``train`` or held-out ``val`` part, under a data root."""
    return f'annotations/folds/fold{k}_{part}.json'


@dataclass
class FoldSplit:
    """Image counts per fold (train, held out), of the test split, and the split seed."""
    n_train: List[int] = field(default_factory=list)
    n_val: List[int] = field(default_factory=list)
    n_test: Optional[int] = None
    seed: Any = None


def read_json(path: str, hint: str = '') -> dict:
    """A JSON file the user gave; a broken one is named in a :class:`UserError`."""
    try:
        with open(path, 'rb') as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as err:
        raise UserError(f'{path} is not valid JSON ({err}){hint}') from err


def _image_names(data: dict, path: str) -> set:
    if not isinstance(data.get('images'), list):
        raise UserError(f'{path} is no COCO annotation file (no "images" list)')
    return {img['file_name'] for img in data['images']}


def check_folds(data_root: str, folds: int, need_test: bool = False) -> FoldSplit:
    """Check the fold files under ``data_root`` form a ``folds``-fold partition of the
    non-test images, disjoint from the test split; return their counts."""
    hint = (f'; run the converter with --folds {folds}: python data_prep/pennfudan_to_coco.py '
            f'--src $PENNFUDAN_SRC --out {data_root} --folds {folds} --overwrite')
    if not osp.isdir(data_root):
        raise UserError(f'data root {data_root} does not exist{hint}')
    split = FoldSplit()
    names: Dict[str, List[set]] = {'train': [], 'val': []}
    for k in range(folds):
        for part in ('train', 'val'):
            path = osp.join(data_root, fold_ann(k, part))
            if not osp.isfile(path):
                raise UserError(f'fold file {path} does not exist{hint}')
            data = read_json(path, hint)
            info = data.get('info') or {}
            n = info.get('num_folds')
            if n is not None and n != folds:
                raise UserError(f'{path} belongs to a {n}-fold split, not {folds}: pass '
                                f'--folds {n}, or{hint[1:]}')
            split.seed = info.get('seed', split.seed)
            names[part].append(_image_names(data, path))
    pool = names['train'][0] | names['val'][0]
    for k in range(folds):
        train, val = names['train'][k], names['val'][k]
        problem = ('its train and val files share images' if train & val else
                   'it covers other images than fold 0' if train | val != pool else
                   'its val images are held out by another fold too' if any(
                       val & names['val'][j] for j in range(k)) else None)
        if problem:
            raise UserError(f'fold {k} in {osp.join(data_root, "annotations/folds")} is not '
                            f'part of a {folds}-fold partition: {problem}{hint}')
    if sum(map(len, names['val'])) != len(pool):
        raise UserError(f'the {folds} held-out folds do not cover all {len(pool)} images{hint}')
    test = osp.join(data_root, TEST_ANN)
    if osp.isfile(test):
        test_names = _image_names(read_json(test), test)
        if test_names & pool:
            raise UserError(f'{len(test_names & pool)} images of {test} are in the folds: '
                            f'the test split must be held out{hint}')
        split.n_test = len(test_names)
    elif need_test:
        raise UserError(f'--also-test: test split {test} does not exist')
    split.n_train = [len(s) for s in names['train']]
    split.n_val = [len(s) for s in names['val']]
    return split
