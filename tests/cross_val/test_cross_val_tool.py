"""tools/cross_val.py on 2 folds of real Penn-Fudan (tiny CPU runs, in this process): the
per-fold table with mean ± std, resuming after an interruption, --also-test added later,
other settings refused, one-line errors for missing or mismatched fold files."""
import json
import statistics
import subprocess
import sys

import pytest
from mmengine.config import Config

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, TINY_SIZE, tool_main

# one iteration of 2 images per fold, no validation while training, 1 image per evaluation
CV_OPTIONS = [o for o in TINY_OPTIONS
              if not o.startswith(('train_cfg.max_epochs', 'train_dataloader.dataset.indices'))]
CV_OPTIONS += ['train_cfg.max_epochs=1', 'train_cfg.val_begin=2',
               'train_dataloader.dataset.indices=2', 'test_dataloader.dataset.indices=1',
               'model.test_cfg.rcnn.max_per_img=5']
TABLE_KEYS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def cv_argv(work_dir, data, *extra, folds=2, options=CV_OPTIONS):
    return [CPU_CONFIG, '--folds', str(folds), '--work-dir', str(work_dir), '--data-root',
            str(data), '--bootstrap', '0', *TINY_SIZE, *extra, '--cfg-options', *options]


def _mtimes(folder):
    """Modification times of the results (the work-dir lock file is touched by design)."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob('*')
            if p.is_file() and p.name != '.lock'}


@pytest.fixture()
def one_line_error(capsys):
    """``check(argv, expected)``: the tool stops with exit status 2 and one last
    ``error: ...`` line holding ``expected``, without a traceback."""
    def check(argv, expected):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            tool_main('cross_val')(argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and 'Traceback' not in err, err[-3000:]
        line = err.strip().splitlines()[-1]
        assert line.startswith('error: ') and expected in line, line
        return line
    return check


@pytest.fixture(scope='module')
def cv_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('cv')
    tool_main('cross_val')(cv_argv(work, coco_data))
    return work


def test_two_folds_table_and_summary(cv_run, coco_data):
    work = cv_run
    summary = json.loads((work / 'cv_summary.json').read_text())
    assert summary['folds'] == 2 and summary['seed'] == 0 and summary['split_seed'] == 0
    assert summary['data_root'] == str(coco_data) and summary['checkpoint'] == 'last'
    assert summary['config'] == CPU_CONFIG
    assert sorted(summary['cfg_options']) == sorted(o.split('=')[0] for o in CV_OPTIONS)
    rows = summary['heldout']['per_fold']
    assert [r['fold'] for r in rows] == [0, 1]
    assert sum(r['n_eval'] for r in rows) == rows[0]['n_train'] + rows[0]['n_eval'] == 153
    for key in TABLE_KEYS:
        values = [r['metrics'][key] for r in rows]
        assert summary['heldout']['mean'][key] == pytest.approx(statistics.fmean(values))
        assert summary['heldout']['std'][key] == pytest.approx(statistics.stdev(values))

    lines = [ln for ln in (work / 'cv_summary.md').read_text().splitlines()
             if ln.startswith('|')]
    assert len(lines) == 5 and 'bbox mAP' in lines[0] and 'segm AP50' in lines[0]
    assert [ln.split('|')[1].strip() for ln in lines[2:]] == ['0', '1', 'mean ± std']
    assert lines[-1].count('±') == 5  # the label and 4 metrics

    for k in range(2):
        fold = work / f'fold{k}'
        result = json.loads((fold / 'cv_result.json').read_text())
        assert result['checkpoint'] == str(fold / 'epoch_1.pth') and not result['resumed']
        assert 'loss' in next(fold.glob('*/vis_data/scalars.json')).read_text()  # its own
        assert result['heldout']['metrics'] == rows[k]['metrics']
        assert json.loads(open(result['heldout']['metrics_file']).read())['metrics'] == \
            rows[k]['metrics']
        # what training and testing ran (the Runner's copies of the fold config): this
        # fold's files, and the user's options and input size
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


def test_rerun_skips_finished_folds_and_finishes_the_rest(cv_run, coco_data, capsys):
    """Fold 1 lost its result (interrupted after training): the rerun leaves fold 0
    alone and evaluates fold 1 again without retraining it. Runs after the test above."""
    work = cv_run
    fold1_before = json.loads((work / 'fold1' / 'cv_result.json').read_text())
    for name in ('fold1/cv_result.json', 'cv_summary.json', 'cv_summary.md'):
        (work / name).unlink()
    fold0 = _mtimes(work / 'fold0')
    ckpt1 = (work / 'fold1' / 'epoch_1.pth').stat().st_mtime_ns

    tool_main('cross_val')(cv_argv(work, coco_data))
    out = capsys.readouterr().out
    assert 'fold 0: finished earlier, skipped' in out
    assert 'fold 1: training finished earlier' in out
    assert 'fold 1/2: training' not in out and 'resuming' not in out
    assert _mtimes(work / 'fold0') == fold0
    assert (work / 'fold1' / 'epoch_1.pth').stat().st_mtime_ns == ckpt1
    fold1 = json.loads((work / 'fold1' / 'cv_result.json').read_text())
    assert fold1['heldout']['metrics'] == fold1_before['heldout']['metrics']
    assert fold1['heldout']['metrics_file'] != fold1_before['heldout']['metrics_file']
    summary = json.loads((work / 'cv_summary.json').read_text())
    assert len(summary['heldout']['per_fold']) == 2
    assert '\n' + (work / 'cv_summary.md').read_text() in out

    # --also-test later: every fold model is tested on the test split, nothing retrained
    tool_main('cross_val')(cv_argv(work, coco_data, '--also-test'))
    summary = json.loads((work / 'cv_summary.json').read_text())
    assert [r['n_eval'] for r in summary['test_split']['per_fold']] == [17, 17]
    assert (work / 'fold1' / 'epoch_1.pth').stat().st_mtime_ns == ckpt1
    assert '## Every fold model on the test split (17 images)' in capsys.readouterr().out


def test_other_settings_on_a_started_work_dir_are_refused(cv_run, coco_data, one_line_error):
    before = _mtimes(cv_run)
    one_line_error(cv_argv(cv_run, coco_data, options=CV_OPTIONS + ['train_cfg.max_epochs=3']),
                   'holds a cross-validation run with other settings')
    assert _mtimes(cv_run) == before


@pytest.mark.parametrize('case', ['missing', 'other_k'])
def test_missing_or_mismatched_fold_files(case, coco_data, data_copy, tmp_path, one_line_error):
    data, folds = coco_data, 2
    if case == 'missing':
        data = data_copy
        (data / 'annotations' / 'folds' / 'fold1_val.json').unlink()
    else:  # the data holds 2 folds, 3 are asked for
        folds = 3
    line = one_line_error(cv_argv(tmp_path / 'w', data, folds=folds), f'--folds {folds}')
    if case == 'missing':
        assert f'{data}/annotations/folds/fold1_val.json does not exist' in line
    else:
        assert 'belongs to a 2-fold split, not 3: pass --folds 2' in line
    assert not (tmp_path / 'w').exists()


@pytest.mark.slow
def test_under_torchrun_with_two_processes(coco_data, tmp_path):
    """The whole tool as one job of 2 CPU processes (gloo): one summary, exit status 0."""
    proc = subprocess.run(
        ['bash', 'tools/torchrun.sh', '2', 'tools/cross_val.py',
         *cv_argv(tmp_path, coco_data), '--launcher', 'pytorch'], cwd=ROOT,
        env={'PY': sys.executable, 'PORT': '29534', 'PATH': '/usr/bin:/bin',
             'OMP_NUM_THREADS': '1'}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('[cross_val] summary:') == 1
    rows = json.loads((tmp_path / 'cv_summary.json').read_text())['heldout']['per_fold']
    assert [r['fold'] for r in rows] == [0, 1] and sum(r['n_eval'] for r in rows) == 153
