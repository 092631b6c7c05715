"""tools/cross_val.py end to end on 2 folds of real Penn-Fudan (tiny CPU runs): the
per-fold table with mean ± std, resuming after an interruption, other settings refused,
one-line errors for missing or mismatched fold files."""
import json
import statistics

import pytest
from mmengine.config import Config

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, run_tool

# one iteration of 2 images per fold, no validation while training, 1 image per evaluation
CV_OPTIONS = [o for o in TINY_OPTIONS
              if not o.startswith(('train_cfg.max_epochs', 'train_dataloader.dataset.indices'))]
CV_OPTIONS += ['train_cfg.max_epochs=1', 'train_cfg.val_interval=2',
               'train_dataloader.dataset.indices=2', 'test_dataloader.dataset.indices=1',
               'model.test_cfg.rcnn.max_per_img=5']
TABLE_KEYS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def _cross_val(work_dir, data, *extra, folds=2, options=CV_OPTIONS, check=True):
    return run_tool('tools/cross_val.py', CPU_CONFIG, '--folds', folds, '--work-dir', work_dir,
                    '--data-root', data, '--bootstrap', '0', *TINY_SIZE, *extra,
                    '--cfg-options', *options, check=check)


def _mtimes(folder):
    """Modification times of the results (the work-dir lock file is touched by design)."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob('*')
            if p.is_file() and p.name != '.lock'}


def _last_error(proc):
    lines = proc.stderr.strip().splitlines()
    return lines[-1] if lines else ''


@pytest.fixture(scope='module')
def cv_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('cv')
    return work, _cross_val(work, coco_data)


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
        # what train.py and test.py ran: the fold config (dumped by the Runner), this
        # fold's files, folds/ kept, and the user's options and input size
        train_cfg = Config.fromfile(fold / f'fold{k}.py', import_custom_modules=False)
        val_ann = f'{coco_data}/annotations/folds/fold{k}_val.json'
        assert train_cfg.train_dataloader.dataset.ann_file == \
            f'annotations/folds/fold{k}_train.json'
        assert train_cfg.val_evaluator.ann_file == val_ann
        assert train_cfg.train_cfg.max_epochs == 1 and train_cfg.model.backbone.img_size == 128
        test_dump = next((fold / 'eval_heldout').glob(f'test_*/fold{k}.py'))
        test_cfg = Config.fromfile(test_dump, import_custom_modules=False)
        assert test_cfg.test_evaluator[0].ann_file == result['heldout']['ann_file'] == val_ann
        assert test_cfg.test_dataloader.dataset.indices == 1


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
    assert proc.returncode == 2
    assert _last_error(proc).startswith('error: ') and 'other settings' in _last_error(proc)
    assert _mtimes(work) == before


@pytest.mark.parametrize('case', ['missing', 'other_k'])
def test_missing_or_mismatched_fold_files(case, coco_data, data_copy, tmp_path):
    data, folds = coco_data, 2
    if case == 'missing':
        data = data_copy
        (data / 'annotations' / 'folds' / 'fold1_val.json').unlink()
    else:  # the data holds 2 folds, 3 are asked for
        folds = 3
    proc = _cross_val(tmp_path / 'w', data, folds=folds, check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    last = _last_error(proc)
    assert last.startswith('error: ') and f'--folds {folds}' in last, proc.stderr[-2000:]
    if case == 'missing':
        assert f'{data}/annotations/folds/fold1_val.json does not exist' in last
    else:
        assert 'belongs to a 2-fold split, not 3: pass --folds 2' in last
    assert not (tmp_path / 'w').exists()
