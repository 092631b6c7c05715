"""A user's mistake is one line before any training step; a bug keeps its traceback
(tools called in this process)."""
import shutil
import textwrap

import pytest

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, TINY_SIZE, tool_main


@pytest.mark.parametrize('options, expected', [
    (['model.neck.out_channels=abc'], 'model.neck.out_channels'),
    (['train_cfg.max_epoch=2'], 'EpochBasedTrainLoop takes no argument "max_epoch"'),
    (['optim_wrapper.optimizerr.lr=1'], 'no "optimizerr"'),
    (['default_hooks.checkpoint.intervall=1'], 'CheckpointHook takes no argument "intervall"'),
    (['model.neck.out_chanels=64'], 'SimpleFPN takes no argument "out_chanels"'),
    (['train_dataloader.dataset.pipeline.99.scale=(1,1)'], 'index 99 is out of range'),
])
def test_bad_cfg_options_are_one_line(coco_data, tmp_path, options, expected, one_line_error):
    one_line_error(tool_main('train'), [CPU_CONFIG, '--work-dir', tmp_path, '--data-root',
                                        coco_data, '--cfg-options', *options], expected)
    assert not list(tmp_path.glob('*.pth'))


def test_a_hook_typo_in_a_config_file_is_caught_before_training(coco_data, tmp_path,
                                                                 one_line_error):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f"_base_ = '{CPU_CONFIG}'\n"
                   "custom_hooks = [dict(type='RNGStateHook', priority_typo=1)]\n")
    one_line_error(tool_main('train'), [cfg, '--work-dir', tmp_path / 'w', '--data-root',
                                        coco_data],
                   'RNGStateHook takes no argument "priority_typo"')


def test_config_syntax_error_and_bad_json_are_named(coco_data, tmp_path, one_line_error):
    cfg = tmp_path / 'broken.py'
    cfg.write_text(f"_base_ = '{CPU_CONFIG}'\nmodel = dict(\n")
    one_line_error(tool_main('train'), [cfg, '--work-dir', tmp_path / 'w'], f'{cfg}')
    data = tmp_path / 'data'
    shutil.copytree(coco_data / 'annotations', data / 'annotations')
    (data / 'PNGImages').symlink_to((coco_data / 'PNGImages').resolve())
    (data / 'annotations' / 'instances_val.json').write_text('{"images": [')
    one_line_error(tool_main('train'), [CPU_CONFIG, '--work-dir', tmp_path / 'w2',
                                        '--data-root', data],
                   'instances_val.json is not valid JSON')


@pytest.mark.parametrize('tool, args, expected', [
    ('train', [ROOT / 'configs/nope.py'], 'nope.py does not exist'),
    ('train', [CPU_CONFIG, '--data-root', '/nowhere'], '/nowhere is not a folder'),
    ('test', [CPU_CONFIG, 'missing.pth'], 'missing.pth does not exist'),
    ('test', [CPU_CONFIG, __file__, '--out', 'preds.json'], '--out must be a .pkl file'),
    ('test', [CPU_CONFIG, __file__, '--score-thr', '2'], '--score-thr must be in [0, 1]'),
    ('train', [CPU_CONFIG, '--input-size', '100', '128'], 'multiples of 32'),
])
def test_bad_paths_and_values_are_one_line(tool, args, expected, one_line_error):
    one_line_error(tool_main(tool), args, expected)


def test_a_bug_in_a_registered_forward_keeps_its_traceback(coco_data, tmp_path, monkeypatch):
    (tmp_path / 'buggy_neck.py').write_text(textwrap.dedent('''
        from mmdet.registry import MODELS
        from pennfudan_vit.models import SimpleFPN


        @MODELS.register_module()
        class BuggySimpleFPN(SimpleFPN):
            def forward(self, inputs):
                return {}['deliberate bug']  # a KeyError, as a real bug would raise
        '''))
    cfg = tmp_path / 'buggy.py'
    cfg.write_text(f"_base_ = '{CPU_CONFIG}'\n"
                   "custom_imports = dict(imports=['pennfudan_vit.models', "
                   "'pennfudan_vit.engine', 'mmpretrain.models', 'buggy_neck'])\n"
                   "model = dict(neck=dict(type='BuggySimpleFPN'))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(KeyError, match='deliberate bug') as err:  # cli_entry lets it through
        tool_main('train')([str(cfg), '--work-dir', str(tmp_path / 'w'), '--data-root',
                            str(coco_data), *TINY_SIZE, '--cfg-options', *TINY_OPTIONS])
    assert str(err.traceback[-1].path).endswith('buggy_neck.py')


@pytest.mark.parametrize('tool, argv', [
    ('train', [CPU_CONFIG]), ('test', [CPU_CONFIG, 'model.pth']),
    ('cross_val', [CPU_CONFIG, '--folds', '2']),
    ('export_onnx', [CPU_CONFIG, 'model.pth', '--out', 'model.onnx']),
])
def test_cfg_option_without_a_value_is_a_usage_error(tool, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        tool_main(tool)([*argv, '--cfg-options', 'train_cfg.max_epochs'])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and 'Traceback' not in err
    assert err.strip().splitlines()[-1].endswith(
        '--cfg-options train_cfg.max_epochs: give KEY=VALUE, e.g. train_cfg.max_epochs=2')


def test_a_full_disk_while_saving_a_checkpoint_is_one_line(coco_data, tmp_path, monkeypatch,
                                                          capsys):
    import errno
    import os

    def full(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full)  # every atomic write: the checkpoint is the first
    with pytest.raises(SystemExit) as exit_:
        tool_main('train')([CPU_CONFIG, '--work-dir', str(tmp_path), '--data-root',
                            str(coco_data), *TINY_SIZE, '--cfg-options', *TINY_OPTIONS,
                            'train_cfg.max_epochs=1'])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and 'Traceback' not in err
    assert err.strip().splitlines()[-1].startswith(
        f'error: no space left in {tmp_path} to write epoch_1.pth (')
    assert [n for n in os.listdir(tmp_path) if '.pth' in n] == []  # no part, no temporary
