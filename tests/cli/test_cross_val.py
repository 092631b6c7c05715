"""tools/cross_val.py on 2 folds of real Penn-Fudan (tiny CPU runs): the
per-fold table with mean ± std, resuming after an interruption, one-line
errors for missing or mismatched fold files, and its helpers."""
import importlib.util
import json
import os
import shutil
import statistics
import sys

import pytest
from mmengine.config import Config

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, run_tool

# one iteration of 2 images per fold, no validation while training, 1 image per evaluation
CV_OPTIONS = [o for o in TINY_OPTIONS
              if not o.startswith(('train_cfg.max_epochs', 'train_dataloader.dataset.indices'))]
CV_OPTIONS += ['train_cfg.max_epochs=1', 'train_cfg.val_interval=2',
               'train_dataloader.dataset.indices=2', 'test_dataloader.dataset.indices=1',
               'model.test_cfg.rcnn.max_per_img=5']
TABLE_KEYS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def _cross_val(work_dir, data, *extra, folds=2, options=CV_OPTIONS, check=True):
    return run_tool('tools/cross_val.py', CPU_CONFIG, '--folds', folds, '--work-dir', work_dir,
                    '--data-root', data, '--bootstrap', '0', *extra, '--cfg-options', *options,
                    check=check)


def _mtimes(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob('*') if p.is_file()}


def _last_error(proc):
    lines = proc.stderr.strip().splitlines()
    return lines[-1] if lines else ''


@pytest.fixture(scope='module')
def cv_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('cv')
    return work, _cross_val(work, coco_data)


@pytest.fixture(scope='module')
def cv_module():
    spec = importlib.util.spec_from_file_location('cross_val', ROOT / 'tools' / 'cross_val.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_folds_table_and_summary(cv_run, coco_data):
    work, proc = cv_run
    summary = json.loads((work / 'cv_summary.json').read_text())
    assert summary['folds'] == 2 and summary['seed'] == 0 and summary['split_seed'] == 0
    assert summary['data_root'] == str(coco_data) and summary['checkpoint'] == 'last'
    assert summary['config'] == CPU_CONFIG and summary['cfg_options'] == CV_OPTIONS
    rows = summary['heldout']['per_fold']
    assert [r['fold'] for r in rows] == [0, 1]
    assert sum(r['n_eval'] for r in rows) == rows[0]['n_train'] + rows[0]['n_eval'] == 153
    for key in TABLE_KEYS:
        values = [r['metrics'][key] for r in rows]
        assert summary['heldout']['mean'][key] == pytest.approx(statistics.fmean(values))
        assert summary['heldout']['std'][key] == pytest.approx(statistics.stdev(values))

    table = (work / 'cv_summary.md').read_text()
    assert table.split('## Each fold model on its held-out fold')[1].strip() in proc.stdout
    lines = [ln for ln in table.splitlines() if ln.startswith('|')]
    assert len(lines) == 5 and 'bbox mAP' in lines[0] and 'segm AP50' in lines[0]
    assert [ln.split('|')[1].strip() for ln in lines[2:]] == ['0', '1', 'mean ± std']
    assert lines[-1].count('±') == 5  # the label and 4 metrics

    for k in range(2):
        fold = work / f'fold{k}'
        result = json.loads((fold / 'cv_result.json').read_text())
        assert result['checkpoint'] == str(fold / 'epoch_1.pth') and not result['resumed']
        assert result['heldout']['metrics'] == rows[k]['metrics']
        # the options reached train.py and test.py: this fold's files, folds/ kept
        train_cfg = Config.fromfile(fold / 'deit-tiny_mrcnn_pennfudan_cpu.py',
                                    import_custom_modules=False)
        val_ann = f'{coco_data}/annotations/folds/fold{k}_val.json'
        assert train_cfg.train_dataloader.dataset.ann_file == \
            f'annotations/folds/fold{k}_train.json'
        assert train_cfg.val_evaluator.ann_file == val_ann
        test_dump = next((fold / 'eval_heldout').glob('test_*/deit-tiny_mrcnn_pennfudan_cpu.py'))
        test_cfg = Config.fromfile(test_dump, import_custom_modules=False)
        assert test_cfg.test_evaluator[0].ann_file == result['heldout']['ann_file'] == val_ann


def test_rerun_skips_finished_folds_and_finishes_the_rest(cv_run, coco_data):
    """Fold 1 lost its result (interrupted after training): the rerun leaves fold 0
    alone and evaluates fold 1 again without retraining it. Runs after the test above."""
    work, _ = cv_run
    fold1_before = json.loads((work / 'fold1' / 'cv_result.json').read_text())
    for name in ('fold1/cv_result.json', 'cv_summary.json', 'cv_summary.md'):
        (work / name).unlink()
    fold0 = _mtimes(work / 'fold0')
    ckpt1 = (work / 'fold1' / 'epoch_1.pth').stat().st_mtime_ns

    proc = _cross_val(work, coco_data)
    assert 'fold 0: finished earlier, skipped' in proc.stdout
    assert 'fold 1: training finished earlier' in proc.stdout
    assert 'fold 1/2: training' not in proc.stdout and 'resuming' not in proc.stdout
    assert _mtimes(work / 'fold0') == fold0
    assert (work / 'fold1' / 'epoch_1.pth').stat().st_mtime_ns == ckpt1
    fold1 = json.loads((work / 'fold1' / 'cv_result.json').read_text())
    assert fold1['heldout']['metrics'] == fold1_before['heldout']['metrics']
    assert fold1['heldout']['metrics_file'] != fold1_before['heldout']['metrics_file']
    summary = json.loads((work / 'cv_summary.json').read_text())
    assert len(summary['heldout']['per_fold']) == 2

    # other settings on a started work dir are refused before anything runs
    before = _mtimes(work)
    proc = _cross_val(work, coco_data, options=CV_OPTIONS + ['train_cfg.max_epochs=3'],
                      check=False)
    assert proc.returncode != 0
    assert _last_error(proc).startswith('error: ') and 'other settings' in _last_error(proc)
    assert _mtimes(work) == before


@pytest.mark.parametrize('case', ['missing', 'other_k'])
def test_missing_or_mismatched_fold_files(case, coco_data, tmp_path):
    data, folds = coco_data, 2
    if case == 'missing':  # a copy of the data without fold1_val.json
        data = tmp_path / 'data'
        shutil.copytree(coco_data / 'annotations', data / 'annotations')
        os.symlink((coco_data / 'PNGImages').resolve(), data / 'PNGImages')
        (data / 'annotations' / 'folds' / 'fold1_val.json').unlink()
    else:  # the data holds 2 folds, 3 are asked for
        folds = 3
    proc = _cross_val(tmp_path / 'w', data, folds=folds, check=False)
    assert proc.returncode != 0
    last = _last_error(proc)
    assert last.startswith('error: ') and f'--folds {folds}' in last, proc.stderr[-2000:]
    if case == 'missing':
        assert f'{data}/annotations/folds/fold1_val.json does not exist' in last
    else:
        assert 'belongs to a 2-fold split, not 3: pass --folds 2' in last
    assert not (tmp_path / 'w').exists()


def test_launch_commands(cv_module, monkeypatch):
    tools = ROOT / 'tools'
    args = ['cfg.py', '--work-dir', 'w']
    assert cv_module.launch_cmd('train.py', args, 'none', 1) == [
        sys.executable, str(tools / 'train.py'), *args]
    assert cv_module.launch_cmd('test.py', args, 'pytorch', 4) == [
        'bash', str(tools / 'torchrun.sh'), '4', str(tools / 'test.py'), *args,
        '--launcher', 'pytorch']
    monkeypatch.setenv('PARTITION', 'gpu')
    monkeypatch.setenv('SRUN_ARGS', '--time=1:00:00')
    monkeypatch.delenv('GPUS_PER_NODE', raising=False)
    cmd = cv_module.launch_cmd('train.py', args, 'slurm', 2, 'cv-fold0')
    assert cmd[:4] == ['srun', '-p', 'gpu', '--job-name=cv-fold0']
    assert '--gres=gpu:2' in cmd and '--ntasks=2' in cmd and '--time=1:00:00' in cmd
    assert cmd[-8:] == [sys.executable, '-u', str(tools / 'train.py'), *args,
                        '--launcher', 'slurm']


def test_split_options_keep_the_folds_folder(cv_module):
    opts = cv_module.split_options('/d', 'annotations/folds/fold1_train.json',
                                   'annotations/folds/fold1_val.json', 'annotations/t.json')
    parsed = cv_module.parse_options(opts)
    assert parsed['val_evaluator.ann_file'] == '/d/annotations/folds/fold1_val.json'
    assert parsed['test_evaluator.ann_file'] == '/d/annotations/t.json'
    assert parsed['train_dataloader.dataset.ann_file'] == 'annotations/folds/fold1_train.json'
    assert all(parsed[f'{s}_dataloader.dataset.data_root'] == '/d/'
               for s in ('train', 'val', 'test'))


def test_checkpoint_helpers_and_aggregate(cv_module, tmp_path):
    for name in ('epoch_1.pth', 'epoch_2.pth', 'best_coco_bbox_mAP_epoch_2.pth',
                 'best_coco_segm_mAP_epoch_1.pth'):
        (tmp_path / name).write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3),
                      default_hooks=dict(checkpoint=dict(save_best='coco/segm_mAP'))))
    assert not cv_module.training_finished(str(tmp_path), cfg)
    cfg.train_cfg.max_epochs = 2
    assert cv_module.training_finished(str(tmp_path), cfg)
    assert cv_module.pick_checkpoint(str(tmp_path), 'last', cfg) == str(tmp_path / 'epoch_2.pth')
    assert cv_module.pick_checkpoint(str(tmp_path), 'best', cfg) == \
        str(tmp_path / 'best_coco_segm_mAP_epoch_1.pth')
    (tmp_path / 'last_checkpoint').unlink()  # falls back to the highest epoch
    assert cv_module.last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')

    agg = cv_module.aggregate([0.5, 0.7, -1.0])  # COCO's -1 (undefined) is left out
    assert agg['mean'] == pytest.approx(0.6) and agg['std'] == pytest.approx(0.1414213562)
    assert cv_module.aggregate([0.5])['std'] is None
