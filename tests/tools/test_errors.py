"""A user's mistake is one line before any training step; a bug keeps its traceback."""
import shutil
import textwrap

import pytest

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, run_tool


def one_line_error(proc, expected):
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and expected in last, last
    assert 'Epoch(train)' not in proc.stdout + proc.stderr


@pytest.mark.parametrize('options, expected', [
    (['model.neck.out_channels=abc'], 'model.neck.out_channels'),
    (['train_cfg.max_epoch=2'], 'EpochBasedTrainLoop takes no argument "max_epoch"'),
    (['optim_wrapper.optimizerr.lr=1'], 'no "optimizerr"'),
    (['default_hooks.checkpoint.intervall=1'], 'CheckpointHook takes no argument "intervall"'),
    (['model.neck.out_chanels=64'], 'SimpleFPN takes no argument "out_chanels"'),
    (['train_dataloader.dataset.pipeline.99.scale=(1,1)'], 'index 99 is out of range'),
])
def test_bad_cfg_options_are_one_line(coco_data, tmp_path, options, expected):
    proc = run_tool('tools/train.py', CPU_CONFIG, '--work-dir', tmp_path, '--data-root',
                    coco_data, '--cfg-options', *options, check=False)
    one_line_error(proc, expected)
    assert not list(tmp_path.glob('*.pth'))


def test_a_hook_typo_in_a_config_file_is_caught_before_training(coco_data, tmp_path):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f"_base_ = '{CPU_CONFIG}'\n"
                   "custom_hooks = [dict(type='RNGStateHook', priority_typo=1)]\n")
    proc = run_tool('tools/train.py', cfg, '--work-dir', tmp_path / 'w', '--data-root',
                    coco_data, check=False)
    one_line_error(proc, 'RNGStateHook takes no argument "priority_typo"')


def test_config_syntax_error_and_bad_json_are_named(coco_data, tmp_path):
    cfg = tmp_path / 'broken.py'
    cfg.write_text(f"_base_ = '{CPU_CONFIG}'\nmodel = dict(\n")
    proc = run_tool('tools/train.py', cfg, '--work-dir', tmp_path / 'w', check=False)
    one_line_error(proc, f'{cfg}')
    data = tmp_path / 'data'
    shutil.copytree(coco_data / 'annotations', data / 'annotations')
    (data / 'PNGImages').symlink_to((coco_data / 'PNGImages').resolve())
    (data / 'annotations' / 'instances_val.json').write_text('{"images": [')
    proc = run_tool('tools/train.py', CPU_CONFIG, '--work-dir', tmp_path / 'w2',
                    '--data-root', data, check=False)
    one_line_error(proc, 'instances_val.json is not valid JSON')


@pytest.mark.parametrize('args, expected', [
    (['tools/train.py', 'configs/nope.py'], 'nope.py does not exist'),
    (['tools/train.py', CPU_CONFIG, '--data-root', '/nowhere'], '/nowhere is not a folder'),
    (['tools/test.py', CPU_CONFIG, 'missing.pth'], 'missing.pth does not exist'),
    (['tools/train.py', CPU_CONFIG, '--input-size', '100', '128'], 'multiples of 32'),
])
def test_bad_paths_and_values_are_one_line(args, expected):
    one_line_error(run_tool(*args, check=False), expected)


def test_a_bug_in_a_registered_forward_keeps_its_traceback(coco_data, tmp_path):
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
    proc = run_tool('tools/train.py', cfg, '--work-dir', tmp_path / 'w', '--data-root',
                    coco_data, *TINY_SIZE, '--cfg-options', *TINY_OPTIONS, check=False,
                    env={'PYTHONPATH': str(tmp_path)})
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' in proc.stderr and "KeyError: 'deliberate bug'" in proc.stderr
    assert 'buggy_neck.py' in proc.stderr
    assert not proc.stderr.strip().splitlines()[-1].startswith('error: ')
