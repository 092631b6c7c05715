"""Everything is checked before the first fold; a started work dir takes only its own
settings."""
import pytest

from helpers import CPU_CONFIG
from pennfudan_vit.config import load_config
from pennfudan_vit.cross_val.run import prepare, write_fold_configs
from pennfudan_vit.errors import UserError


@pytest.mark.parametrize('kwargs, message', [
    (dict(folds=1), '--folds must be >= 2'),
    (dict(bootstrap=-1), '--bootstrap must be >= 0'),
    (dict(cfg_options={'train_cfg.max_epoch': 1}), 'max_epoch'),
    (dict(cfg_options={'val_evaluator.ann_file': 'x.json'}), 'cross_val.py sets'),
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


def test_fold_configs_and_other_settings(coco_data, tmp_path):
    options = {'train_cfg.max_epochs': 1, 'model.test_cfg.rcnn.max_per_img': 5}
    work = tmp_path / 'w'
    cv = prepare(CPU_CONFIG, 2, options, data_root=str(coco_data), input_size=[128, 128],
                 work_dir=str(work), also_test=True)
    assert cv.cfg.train_cfg.max_epochs == 1 and cv.cfg.model.backbone.img_size == 128
    assert cv.split.n_test == 17 and cv.data_root == str(coco_data)
    write_fold_configs(cv)
    assert sorted(p.name for p in work.glob('fold*.py')) == [
        'fold0.py', 'fold0_test_split.py', 'fold1.py', 'fold1_test_split.py']
    fold = load_config(str(work / 'fold0.py'))
    assert fold.model.test_cfg.rcnn.max_per_img == 5 and fold.model.backbone.img_size == 128

    (work / 'fold1').mkdir()
    (work / 'fold1' / 'epoch_1.pth').write_bytes(b'')
    for changed in (dict(cfg_options={'train_cfg.max_epochs': 1}), dict(input_size=[96, 96])):
        with pytest.raises(UserError, match='other settings .*fold1.py differs'):
            write_fold_configs(prepare(**dict(
                dict(config=CPU_CONFIG, folds=2, cfg_options=options, data_root=str(coco_data),
                     input_size=[128, 128], work_dir=str(work)), **changed)))
    write_fold_configs(cv)  # the same settings resume
