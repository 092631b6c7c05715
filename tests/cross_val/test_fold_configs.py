"""Fold configs: whole configs (the user's, with the command line) pointing every split at
the fold's files; options that would move a fold's data are refused."""
import pytest
from mmengine.config import Config

from helpers import CPU_CONFIG
from pennfudan_vit.config import load_config
from pennfudan_vit.cross_val.folds import check_option_keys, fold_configs
from pennfudan_vit.errors import UserError


def _write(folder, texts):
    for name, text in texts.items():
        (folder / name).write_text(text)


def test_fold_and_test_split_configs(tmp_path):
    cfg = load_config(CPU_CONFIG, {'train_cfg.max_epochs': 1})
    texts = fold_configs(CPU_CONFIG, cfg, '/d', folds=2, also_test=True)
    assert sorted(texts) == ['fold0.py', 'fold0_test_split.py', 'fold1.py', 'fold1_test_split.py']
    assert texts['fold1.py'].startswith(f'# {CPU_CONFIG} on fold 1 of 2, written by')
    _write(tmp_path, texts)
    fold = load_config(str(tmp_path / 'fold1.py'))
    assert fold.train_cfg.max_epochs == 1 and fold.data_root == '/d/'
    assert fold.train_dataloader.dataset.ann_file == 'annotations/folds/fold1_train.json'
    for split in ('val', 'test'):
        ds = fold[f'{split}_dataloader'].dataset
        assert (ds.data_root, ds.ann_file) == ('/d/', 'annotations/folds/fold1_val.json')
        assert fold[f'{split}_evaluator'].ann_file == '/d/annotations/folds/fold1_val.json'
    # everything else is the user's config
    assert fold.model == cfg.model and fold.test_dataloader.dataset.pipeline == \
        cfg.test_dataloader.dataset.pipeline
    test = load_config(str(tmp_path / 'fold1_test_split.py'))
    assert test.test_dataloader.dataset.ann_file == 'annotations/instances_test.json'
    assert test.test_evaluator.ann_file == '/d/annotations/instances_test.json'
    assert test.train_dataloader.dataset.ann_file == 'annotations/folds/fold1_train.json'


def test_wrapped_dataset_and_evaluator_list(tmp_path):
    user = tmp_path / 'user.py'
    user.write_text(
        f"_base_ = [{CPU_CONFIG!r}]\n"
        "train_dataloader = dict(dataset=dict(_delete_=True, type='RepeatDataset', times=2,\n"
        "                        dataset={{_base_.train_dataloader.dataset}}))\n"
        "test_evaluator = [dict(type='CocoMetric', ann_file='x.json', metric=['bbox'])]\n")
    texts = fold_configs(str(user), Config.fromfile(user), '/d', folds=2, also_test=False)
    _write(tmp_path, texts)
    fold = Config.fromfile(tmp_path / 'fold0.py')
    assert fold.train_dataloader.dataset.type == 'RepeatDataset'
    assert fold.train_dataloader.dataset.dataset.ann_file == 'annotations/folds/fold0_train.json'
    assert fold.test_evaluator == [dict(type='CocoMetric', metric=['bbox'],
                                        ann_file='/d/annotations/folds/fold0_val.json')]


def test_refused_configs_and_options():
    for key in ('train_dataloader.dataset.ann_file', 'val_evaluator', 'data_root',
                'test_dataloader.dataset', 'val_evaluator.ann_file', 'test_evaluator.0',
                'train_dataloader.dataset.dataset.data_root'):
        with pytest.raises(UserError, match=f'--cfg-options {key}: cross_val.py sets'):
            check_option_keys([key])
    check_option_keys(['train_dataloader.dataset.indices', 'val_evaluator.metric',
                       'train_cfg.max_epochs'])
    cfg = Config.fromfile(CPU_CONFIG)
    concat = Config(dict(cfg.to_dict(), train_dataloader=dict(dataset=dict(
        type='ConcatDataset', datasets=[dict(ann_file='a'), dict(ann_file='b')]))))
    with pytest.raises(UserError, match='concatenates 2 datasets'):
        fold_configs(CPU_CONFIG, concat, '/d', folds=2, also_test=False)
    no_test = Config(dict(cfg.to_dict(), test_evaluator=None))
    with pytest.raises(UserError, match='has no test_evaluator'):
        fold_configs(CPU_CONFIG, no_test, '/d', folds=2, also_test=False)
