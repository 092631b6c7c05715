"""Fold files: a K-fold partition of the non-test images, or one line saying what to fix."""
import json

import pytest

from pennfudan_vit.cross_val.folds import TEST_ANN, check_folds, fold_ann
from pennfudan_vit.errors import UserError


def test_two_folds_partition(coco_data):
    split = check_folds(str(coco_data), 2, need_test=True)
    assert split.seed == 0 and split.n_test == 17
    assert split.n_train[0] + split.n_val[0] == split.n_train[1] + split.n_val[1] == 153
    assert sum(split.n_val) == 153
    assert fold_ann(1, 'val') == 'annotations/folds/fold1_val.json'


def _edit(data, name, change):
    path = data / name
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


@pytest.mark.parametrize('case, message', [
    ('missing', 'fold1_val.json does not exist; run the converter with --folds 2'),
    ('other_k', 'belongs to a 2-fold split, not 3: pass --folds 2, or run the converter'),
    ('not_json', 'fold0_train.json: fold annotation file is not valid JSON'),
    ('shared', 'fold 0 in '),
    ('twice', 'an image is held out by two of the 2 folds'),
    ('test_inside', 'images of '),
    ('no_test', '--also-test: test split'),
])
def test_named_errors(case, message, data_copy):
    folds = 2
    if case == 'missing':
        (data_copy / fold_ann(1, 'val')).unlink()
    elif case == 'other_k':
        folds = 3
    elif case == 'not_json':
        (data_copy / fold_ann(0, 'train')).write_text('{"images": [')
    elif case == 'shared':  # a held-out image also in the fold's train file
        val = json.loads((data_copy / fold_ann(0, 'val')).read_text())
        _edit(data_copy, fold_ann(0, 'train'), lambda c: c['images'].append(val['images'][0]))
    elif case == 'twice':  # a held-out image of fold 0 also held out by fold 1
        val = json.loads((data_copy / fold_ann(0, 'val')).read_text())
        _edit(data_copy, fold_ann(1, 'val'), lambda c: c['images'].append(val['images'][0]))
    elif case == 'test_inside':
        val = json.loads((data_copy / fold_ann(0, 'val')).read_text())
        _edit(data_copy, TEST_ANN, lambda c: c['images'].append(val['images'][0]))
    else:
        (data_copy / TEST_ANN).unlink()
    with pytest.raises(UserError) as err:
        check_folds(str(data_copy), folds, need_test=True)
    assert message in str(err.value) and '\n' not in str(err.value)
    if case in ('missing', 'other_k', 'shared'):
        assert f'--folds {folds}' in str(err.value)


def test_missing_data_root(tmp_path):
    with pytest.raises(UserError, match='data root .* does not exist'):
        check_folds(str(tmp_path / 'nowhere'), 2)
