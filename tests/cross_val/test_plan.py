"""Everything is checked before the first fold; a work dir holds one plan, one run at a time."""
import json

import pytest

from helpers import CPU_CONFIG
from pennfudan_vit.cross_val import parse_options, plan_of, prepare, start
from pennfudan_vit.errors import UserError


@pytest.mark.parametrize('kwargs, message', [
    (dict(folds=1), '--folds must be >= 2'),
    (dict(gpus=2), '--gpus 2 needs --launcher pytorch or slurm'),
    (dict(bootstrap=-1), '--bootstrap must be >= 0'),
    (dict(cfg_options=['train_cfg.max_epochs']), 'is not KEY=VALUE'),
    (dict(cfg_options=['train_cfg.max_epoch=1']), 'max_epoch'),
    (dict(cfg_options=['val_evaluator.ann_file=x.json']), 'cross_val.py sets'),
    (dict(checkpoint='best', cfg_options=['default_hooks.checkpoint.save_best=None']),
     '--checkpoint best: the config keeps no best checkpoint'),
    (dict(input_size=[100, 100]), 'multiples of 32'),
    (dict(config='nowhere.py'), 'config file nowhere.py does not exist'),
])
def test_refused_before_anything_is_written(kwargs, message, coco_data, tmp_path):
    args = dict(dict(config=CPU_CONFIG, folds=2, data_root=str(coco_data),
                     work_dir=str(tmp_path / 'w')), **kwargs)
    with pytest.raises(UserError, match=message):
        prepare(**args)
    assert not (tmp_path / 'w').exists()


def test_fold_file_errors_name_the_fix(data_copy, tmp_path):
    (data_copy / 'annotations/folds/fold0_train.json').unlink()
    with pytest.raises(UserError, match='fold0_train.json does not exist; run the converter'):
        prepare(CPU_CONFIG, 2, data_root=str(data_copy), work_dir=str(tmp_path / 'w'))


def test_plan_start_and_lock(coco_data, tmp_path):
    options = ['train_cfg.max_epochs=1', 'model.test_cfg.rcnn.max_per_img=5']
    cv = prepare(CPU_CONFIG, 2, options, data_root=str(coco_data), input_size=[128, 128],
                 work_dir=str(tmp_path / 'w'), also_test=True)
    assert cv.cfg.train_cfg.max_epochs == 1 and cv.cfg.model.backbone.img_size == 128
    assert cv.split.n_test == 17 and cv.data_root == str(coco_data)
    plan = plan_of(cv)
    assert plan['cfg_options'] == parse_options(options) == {
        'train_cfg.max_epochs': 1, 'model.test_cfg.rcnn.max_per_img': 5}
    assert plan['cfg_options_argv'] == options and plan['input_size'] == [128, 128]

    start(cv)
    work = tmp_path / 'w'
    assert json.loads((work / 'cv_plan.json').read_text()) == plan
    assert sorted(p.name for p in work.glob('fold*.py')) == [
        'fold0.py', 'fold0_test_split.py', 'fold1.py', 'fold1_test_split.py']

    # once a fold has a checkpoint, other settings are refused; the same ones resume
    (work / 'fold0').mkdir()
    (work / 'fold0' / 'epoch_1.pth').write_bytes(b'')
    other = prepare(CPU_CONFIG, 2, options[:1], data_root=str(coco_data), input_size=[128, 128],
                    work_dir=str(work), also_test=True)
    with pytest.raises(UserError, match='other settings .*cfg_options'):
        start(other)
    start(cv)
