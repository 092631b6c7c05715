"""Running the folds: each step is ``tools/train.py`` or ``tools/test.py`` on a fold
config, alone, under torchrun or under srun; ``W/fold{k}/cv_result.json`` marks a
finished fold, so a rerun skips it and resumes the others."""
import glob
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence

from ..errors import UserError
from ..fileio import atomic_write_json
from .checkpoints import pick_checkpoint, training_finished
from .fold_configs import fold_config_path
from .folds import TEST_ANN, fold_ann, read_json
from .plan import CrossVal


def launch_cmd(tools_dir: str, script: str, script_args: Sequence[str], launcher: str,
               gpus: int, job_name: str = 'cross_val') -> List[str]:
    """Command running ``tools_dir/script`` alone, under torchrun or under srun."""
    path = osp.join(tools_dir, script)
    if launcher == 'none':
        return [sys.executable, path, *script_args]
    if launcher == 'pytorch':
        return ['bash', osp.join(tools_dir, 'torchrun.sh'), str(gpus), path, *script_args,
                '--launcher', 'pytorch']
    per_node = int(os.environ.get('GPUS_PER_NODE', min(gpus, 8)))
    cmd = ['srun']
    if os.environ.get('PARTITION'):
        cmd += ['-p', os.environ['PARTITION']]
    return cmd + [
        f'--job-name={job_name}', f'--gres=gpu:{per_node}', f'--ntasks={gpus}',
        f'--ntasks-per-node={per_node}', f'--cpus-per-task={os.environ.get("CPUS_PER_TASK", 5)}',
        '--kill-on-bad-exit=1', *shlex.split(os.environ.get('SRUN_ARGS', '')),
        sys.executable, '-u', path, *script_args, '--launcher', 'slurm'
    ]


def run_step(cmd: List[str], what: str) -> None:
    """Run one step; a failure is reported (its own messages are above) as resumable."""
    print(f'[cross_val] {what}: {shlex.join(cmd)}', flush=True)
    proc = subprocess.Popen(cmd, env=dict(os.environ, PY=sys.executable))  # torchrun.sh's
    try:
        rc = proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the step too: let it stop, then insist
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                stop()
            try:
                proc.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                pass
        raise
    if rc != 0:
        raise UserError(f'{what} failed (exit code {rc}; the messages above say why); '
                        'rerunning the command resumes')


def _options(cv: CrossVal) -> List[str]:
    """The user's ``--input-size`` and ``--cfg-options``, for train.py and test.py."""
    size = ['--input-size', *map(str, cv.input_size)] if cv.input_size else []
    return size + (['--cfg-options', *cv.user_options] if cv.user_options else [])


def evaluate(cv: CrossVal, k: int, ckpt: str, test_split: bool = False) -> Dict[str, Any]:
    """``tools/test.py`` on fold k's held-out part (or the test split): its metrics."""
    name, ann = ('test', TEST_ANN) if test_split else ('heldout', fold_ann(k, 'val'))
    eval_dir = osp.join(cv.work_dir, f'fold{k}', f'eval_{name}')
    pattern = osp.join(eval_dir, 'test_*', 'metrics.json')
    before = {p: os.stat(p).st_mtime_ns for p in glob.glob(pattern)}
    args = [fold_config_path(cv.work_dir, k, test_split), ckpt, '--work-dir', eval_dir,
            '--bootstrap', str(cv.bootstrap), *_options(cv)]
    run_step(launch_cmd(cv.tools_dir, 'test.py', args, cv.launcher, cv.gpus,
                        f'cv-fold{k}-{name}'),
             f'fold {k}: evaluating {osp.basename(ckpt)} on {ann}')
    new = [p for p in glob.glob(pattern) if before.get(p) != os.stat(p).st_mtime_ns]
    if not new:
        raise RuntimeError(f'tools/test.py wrote no metrics.json under {eval_dir}')
    metrics_file = max(new, key=osp.getmtime)
    report = read_json(metrics_file)
    out = dict(ann_file=osp.join(cv.data_root, ann), metrics_file=metrics_file,
               metrics=report['metrics'])
    if report.get('bootstrap'):
        out['bootstrap'] = report['bootstrap']
    return out


def run_fold(cv: CrossVal, k: int) -> Dict[str, Any]:
    """Train (or resume) and evaluate fold ``k`` unless its result exists."""
    fold_dir = osp.join(cv.work_dir, f'fold{k}')
    result_path = osp.join(fold_dir, 'cv_result.json')
    result = read_json(result_path) if osp.isfile(result_path) else None
    if result is not None and (not cv.also_test or 'test_split' in result):
        print(f'[cross_val] fold {k}: finished earlier, skipped ({result_path})', flush=True)
        return result
    start = time.time()
    if result is None:
        resume = bool(glob.glob(osp.join(fold_dir, '*.pth')))
        if resume and training_finished(fold_dir, cv.cfg):
            print(f'[cross_val] fold {k}: training finished earlier', flush=True)
        else:
            args = [fold_config_path(cv.work_dir, k), '--work-dir', fold_dir,
                    *(['--resume'] if resume else []), *_options(cv)]
            run_step(launch_cmd(cv.tools_dir, 'train.py', args, cv.launcher, cv.gpus,
                                f'cv-fold{k}'),
                     f'fold {k}/{cv.folds}: {"resuming" if resume else "training"}')
        ckpt = pick_checkpoint(fold_dir, cv.checkpoint, cv.cfg)
        result = dict(
            fold=k, config=cv.config, data_root=cv.data_root, checkpoint=ckpt,
            checkpoint_rule=cv.checkpoint, train_ann=fold_ann(k, 'train'),
            n_train=cv.split.n_train[k], n_heldout=cv.split.n_val[k], resumed=resume,
            heldout=evaluate(cv, k, ckpt))
    if cv.also_test and 'test_split' not in result:
        result['test_split'] = evaluate(cv, k, result['checkpoint'], test_split=True)
        result['n_test'] = cv.split.n_test
    result['seconds'] = round(result.get('seconds', 0) + time.time() - start, 1)
    atomic_write_json(result_path, result)
    print(f'[cross_val] fold {k}: done ({result_path})', flush=True)
    return result
