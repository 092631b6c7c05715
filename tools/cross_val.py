"""K-fold cross-validation: one model per fold, COCO mAP per fold, mean ± std.

    python tools/cross_val.py CONFIG --folds K [--data-root DIR] [--work-dir W]
        [--checkpoint {last,best}] [--also-test] [--bootstrap N]
        [--launcher {none,pytorch,slurm}] [--gpus N] [--cfg-options k=v ...]

Fold k trains with tools/train.py on ``annotations/folds/fold{k}_train.json``
(validating on ``fold{k}_val.json``) into ``W/fold{k}``; tools/test.py then
evaluates the fold's model on the images it never saw, ``fold{k}_val.json``
(with ``--also-test`` also on the fixed test split). ``W/fold{k}/cv_result.json``
marks a finished fold: rerunning the same command skips finished folds and
resumes interrupted ones. Per-fold bbox / segm mAP and AP50 with the mean and
sample std over folds are printed and saved to ``W/cv_summary.{json,md}``.
The folds come from ``data_prep/pennfudan_to_coco.py --folds K``.
"""
import argparse
import copy
import fcntl
import glob
import json
import os
import os.path as osp
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config, DictAction

TOOLS = osp.dirname(osp.abspath(__file__))
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TEST_ANN = 'annotations/instances_test.json'
TABLE_METRICS = (('coco/bbox_mAP', 'bbox mAP'), ('coco/bbox_mAP_50', 'bbox AP50'),
                 ('coco/segm_mAP', 'segm mAP'), ('coco/segm_mAP_50', 'segm AP50'))
# settings a work dir is tied to: resuming with other values would mix runs
PLAN_KEYS = ('config', 'folds', 'data_root', 'cfg_options', 'checkpoint')


class CrossValError(Exception):
    """A problem reported as one ``error:`` line."""


@dataclass
class CrossVal:
    """Everything the folds need, checked before the first one starts."""
    config: str
    folds: int
    data_root: str
    work_dir: str
    cfg: Config
    user_options: List[str]
    checkpoint: str = 'last'
    also_test: bool = False
    bootstrap: int = 1000
    launcher: str = 'none'
    gpus: int = 1
    n_train: List[int] = field(default_factory=list)
    n_val: List[int] = field(default_factory=list)
    n_test: Optional[int] = None
    split_seed: Any = None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='K-fold cross-validation of a config')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--folds', type=int, required=True,
                        help='number of folds K (the converter\'s --folds K)')
    parser.add_argument('--data-root', help='converter output (default: the config\'s data_root)')
    parser.add_argument('--work-dir', help='default: ./work_dirs/cv_<config name>')
    parser.add_argument('--checkpoint', choices=['last', 'best'], default='last',
                        help='checkpoint of each fold to evaluate; "best" is selected on '
                        'the held-out fold itself, so its score is optimistic')
    parser.add_argument('--also-test', action='store_true',
                        help='also evaluate every fold model on the fixed test split')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates per evaluation (tools/test.py; 0: off)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='pytorch: torchrun per step (tools/torchrun.sh); slurm: srun '
                        'per step (PARTITION, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per step with --launcher pytorch/slurm')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='passed to every train.py / test.py call; keys must exist')
    return parser.parse_args(argv)


def parse_options(options: Sequence[str]) -> Dict[str, Any]:
    """Parse ``key=value`` strings exactly as train.py / test.py do."""
    for opt in options:
        if '=' not in opt:
            raise CrossValError(f'--cfg-options "{opt}" is not KEY=VALUE')
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='*', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def split_options(data_root: str, train_ann: str, val_ann: str, test_ann: str) -> List[str]:
    """``--cfg-options`` pointing the three splits at files under ``data_root``.

    ``--data-root`` is not used: it keeps only the base name of evaluator files,
    which would drop the ``folds/`` folder.
    """
    root = osp.join(data_root, '')
    opts = [f'data_root={root}'] + [f'{dl}.dataset.data_root={root}' for dl in DATALOADERS]
    for split, ann in (('train', train_ann), ('val', val_ann), ('test', test_ann)):
        opts.append(f'{split}_dataloader.dataset.ann_file={ann}')
        if split != 'train':
            opts.append(f'{split}_evaluator.ann_file={root}{ann}')
    return opts


def fold_ann(k: int, part: str) -> str:
    return f'annotations/folds/fold{k}_{part}.json'


def launch_cmd(script: str, script_args: Sequence[str], launcher: str, gpus: int,
               job_name: str = 'cross_val') -> List[str]:
    """Command running ``tools/<script>`` alone, under torchrun or under srun."""
    path = osp.join(TOOLS, script)
    if launcher == 'none':
        return [sys.executable, path, *script_args]
    if launcher == 'pytorch':
        return ['bash', osp.join(TOOLS, 'torchrun.sh'), str(gpus), path, *script_args,
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


def _load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def check_folds(cv: CrossVal) -> None:
    """Check the fold files form a K-fold partition of the non-test images."""
    root, k_folds = cv.data_root, cv.folds
    hint = ('run the converter with --folds {k}: python data_prep/pennfudan_to_coco.py '
            f'--src ../shared/data/PennFudanPed --out {root} --folds {{k}} --overwrite')
    if not osp.isdir(root):
        raise CrossValError(f'data root {root} does not exist; {hint.format(k=k_folds)}')
    names: Dict[str, List[set]] = {'train': [], 'val': []}
    for k in range(k_folds):
        for part in ('train', 'val'):
            path = osp.join(root, fold_ann(k, part))
            if not osp.isfile(path):
                raise CrossValError(f'fold file {path} does not exist; {hint.format(k=k_folds)}')
            data = _load_json(path)
            info = data.get('info') or {}
            n = info.get('num_folds')
            if n is not None and n != k_folds:
                raise CrossValError(
                    f'{path} belongs to a {n}-fold split, not {k_folds}: pass --folds {n}, '
                    f'or {hint.format(k=k_folds)}')
            cv.split_seed = info.get('seed', cv.split_seed)
            names[part].append({img['file_name'] for img in data['images']})
    pool = names['train'][0] | names['val'][0]
    for k in range(k_folds):
        train, val = names['train'][k], names['val'][k]
        problem = ('its train and val files share images' if train & val else
                   'it covers other images than fold 0' if train | val != pool else
                   'its val images are held out by another fold too' if any(
                       val & names['val'][j] for j in range(k)) else None)
        if problem:
            raise CrossValError(f'fold {k} in {osp.join(root, "annotations/folds")} is not '
                                f'part of a {k_folds}-fold partition: {problem}; '
                                f'{hint.format(k=k_folds)}')
    if sum(map(len, names['val'])) != len(pool):
        raise CrossValError(f'the {k_folds} held-out folds do not cover all {len(pool)} '
                            f'images; {hint.format(k=k_folds)}')
    test = osp.join(root, TEST_ANN)
    if osp.isfile(test):
        test_names = {img['file_name'] for img in _load_json(test)['images']}
        if test_names & pool:
            raise CrossValError(f'{len(test_names & pool)} images of {test} are in the '
                                f'folds: the test split must be held out; {hint.format(k=k_folds)}')
        cv.n_test = len(test_names)
    elif cv.also_test:
        raise CrossValError(f'--also-test: test split {test} does not exist')
    cv.n_train = [len(s) for s in names['train']]
    cv.n_val = [len(s) for s in names['val']]


def prepare(args: argparse.Namespace) -> CrossVal:
    """Check the command line, config, cfg-options and data; nothing is written."""
    if args.folds < 2:
        raise CrossValError(f'--folds must be >= 2, got {args.folds}')
    if args.gpus < 1 or (args.gpus > 1 and args.launcher == 'none'):
        raise CrossValError(f'--gpus {args.gpus} needs --launcher pytorch or slurm')
    if 'TORCHELASTIC_RUN_ID' in os.environ:
        raise CrossValError('run tools/cross_val.py once, not under torchrun: it starts '
                            'torchrun for every step with --launcher pytorch --gpus N')
    if args.launcher == 'slurm' and shutil.which('srun') is None:
        raise CrossValError('--launcher slurm: srun is not on PATH')
    if not osp.isfile(args.config):
        raise CrossValError(f'config file {args.config} does not exist')
    if args.bootstrap < 0:
        raise CrossValError(f'--bootstrap must be >= 0, got {args.bootstrap}')
    from pennfudan_vit.apis import ConfigCheckError, check_dataset_files, validate_cfg_options
    user = parse_options(args.cfg_options)
    cfg = Config.fromfile(args.config, import_custom_modules=False)
    placeholder = split_options('/', 'a', 'b', 'c')
    for key in user:
        for opt in placeholder:
            managed = opt.split('=', 1)[0]
            if key == managed or managed.startswith(key + '.') or key.startswith(managed + '.'):
                raise CrossValError(f'--cfg-options {key}: cross_val.py sets {managed} for '
                                    'every fold; choose the dataset with --data-root')
    try:
        validate_cfg_options(cfg, user)
        validate_cfg_options(cfg, parse_options(placeholder))
    except ConfigCheckError as e:
        raise CrossValError(str(e)) from e
    merged = copy.deepcopy(cfg)
    merged.merge_from_dict(user)
    if args.checkpoint == 'best' and not (merged.get('default_hooks') or {}).get(
            'checkpoint', {}).get('save_best'):
        raise CrossValError('--checkpoint best: the config keeps no best checkpoint '
                            '(default_hooks.checkpoint.save_best); use --checkpoint last')
    data_root = args.data_root or merged.get('data_root')
    if not data_root:
        raise CrossValError('the config has no data_root: pass --data-root DIR')
    work_dir = osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'cv_' + osp.splitext(osp.basename(args.config))[0]))
    cv = CrossVal(config=osp.abspath(args.config), folds=args.folds,
                  data_root=osp.abspath(data_root), work_dir=work_dir, cfg=merged,
                  user_options=list(args.cfg_options), checkpoint=args.checkpoint,
                  also_test=args.also_test, bootstrap=args.bootstrap,
                  launcher=args.launcher, gpus=args.gpus)
    check_folds(cv)
    for k in range(cv.folds):
        ours = split_options(cv.data_root, fold_ann(k, 'train'), fold_ann(k, 'val'), TEST_ANN)
        parsed = parse_options(ours)
        if any(parsed[o.split('=', 1)[0]] != o.split('=', 1)[1] for o in ours):
            raise CrossValError(f'data root {cv.data_root}: --cfg-options cannot carry paths '
                                'with commas, brackets or quotes; move or link the data')
        fold_cfg = copy.deepcopy(merged)
        fold_cfg.merge_from_dict(parsed)
        try:
            check_dataset_files(fold_cfg, ['train_dataloader', 'val_dataloader'] +
                                (['test_dataloader'] if cv.also_test else []))
        except ConfigCheckError as e:
            raise CrossValError(str(e)) from e
    if any(key.startswith('test_dataloader.dataset.indices') for key in user):
        print('[cross_val] warning: test_dataloader.dataset.indices: every evaluation sees '
              'only a subset of its split', flush=True)
    return cv


def plan_of(cv: CrossVal) -> Dict[str, Any]:
    """What a work dir is tied to, JSON-normalised for comparison."""
    options = json.loads(json.dumps(parse_options(cv.user_options), sort_keys=True, default=str))
    return dict(config=cv.config, folds=cv.folds, data_root=cv.data_root,
                cfg_options=options, checkpoint=cv.checkpoint, cfg_options_argv=cv.user_options)


def check_plan(cv: CrossVal) -> None:
    """Record the settings in ``W/cv_plan.json``; once a fold has a checkpoint,
    refuse to go on with other settings."""
    from pennfudan_vit.apis import atomic_write_json
    path = osp.join(cv.work_dir, 'cv_plan.json')
    plan = plan_of(cv)
    started = glob.glob(osp.join(cv.work_dir, 'fold*', '*.pth')) or glob.glob(
        osp.join(cv.work_dir, 'fold*', 'cv_result.json'))
    if osp.isfile(path) and started:
        old = _load_json(path)
        diffs = [f'{k}: {old.get(k)!r}, now {plan[k]!r}' for k in PLAN_KEYS
                 if old.get(k) != plan[k]]
        if diffs:
            raise CrossValError(f'{cv.work_dir} holds a cross-validation run with other '
                                f'settings ({"; ".join(diffs)}); rerun with the same settings '
                                'to resume it, or choose another --work-dir')
    else:
        atomic_write_json(path, plan)


def run_step(cmd: List[str], what: str, env: Dict[str, str]) -> None:
    print(f'[cross_val] {what}: {shlex.join(cmd)}', flush=True)
    proc = subprocess.Popen(cmd, env=env)
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
        raise CrossValError(f'{what} failed (exit code {rc}; the messages above say why); '
                            'rerunning the command resumes')


def last_checkpoint(fold_dir: str) -> Optional[str]:
    """The checkpoint mmengine saved last (``last_checkpoint``), or the newest one."""
    marker = osp.join(fold_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            path = f.read().strip()
        path = path if osp.isabs(path) else osp.join(fold_dir, osp.basename(path))
        if osp.isfile(path):
            return path
    numbered = [(int(m.group(2)), p) for p in glob.glob(osp.join(fold_dir, '*.pth'))
                if (m := re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(p)))]
    return max(numbered)[1] if numbered else None


def training_finished(fold_dir: str, cfg: Config) -> bool:
    """Whether the last checkpoint is that of the final epoch / iteration."""
    ckpt = last_checkpoint(fold_dir)
    m = ckpt and re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(ckpt))
    if not m:
        return False
    target = cfg.get('train_cfg', {}).get('max_epochs' if m.group(1) == 'epoch' else 'max_iters')
    return target is not None and int(m.group(2)) >= int(target)


def pick_checkpoint(fold_dir: str, rule: str, cfg: Config) -> str:
    """The fold's last checkpoint, or its best one by ``save_best``."""
    if rule == 'last':
        ckpt = last_checkpoint(fold_dir)
        if ckpt is None:
            raise CrossValError(f'no checkpoint in {fold_dir} after training')
        return ckpt
    best = glob.glob(osp.join(fold_dir, 'best_*.pth'))
    save_best = cfg.get('default_hooks', {}).get('checkpoint', {}).get('save_best')
    for key in save_best if isinstance(save_best, (list, tuple)) else [save_best]:
        if key and key != 'auto':
            hits = [p for p in best
                    if osp.basename(p).startswith(f'best_{key.replace("/", "_")}_')]
            if hits:
                return max(hits, key=osp.getmtime)
    if len(best) == 1:
        return best[0]
    raise CrossValError(f'--checkpoint best: {len(best)} best_*.pth files in {fold_dir} '
                        f'(default_hooks.checkpoint.save_best={save_best!r}); '
                        'use --checkpoint last')


def evaluate(cv: CrossVal, fold_dir: str, ckpt: str, k: int, ann: str, env: Dict[str, str],
             name: str) -> Dict[str, Any]:
    """Run tools/test.py on ``ann`` and return its metrics.json, summarised."""
    eval_dir = osp.join(fold_dir, f'eval_{name}')
    pattern = osp.join(eval_dir, 'test_*', 'metrics.json')
    before = {p: os.stat(p).st_mtime_ns for p in glob.glob(pattern)}
    args = [cv.config, ckpt, '--work-dir', eval_dir, '--bootstrap', str(cv.bootstrap),
            '--cfg-options', *cv.user_options,
            *split_options(cv.data_root, fold_ann(k, 'train'), fold_ann(k, 'val'), ann)]
    run_step(launch_cmd('test.py', args, cv.launcher, cv.gpus, f'cv-fold{k}-{name}'),
             f'fold {k}: evaluating {osp.basename(ckpt)} on {ann}', env)
    new = [p for p in glob.glob(pattern) if before.get(p) != os.stat(p).st_mtime_ns]
    if not new:
        raise CrossValError(f'tools/test.py wrote no metrics.json under {eval_dir}')
    metrics_file = max(new, key=osp.getmtime)
    report = _load_json(metrics_file)
    out = dict(ann_file=osp.join(cv.data_root, ann), metrics_file=metrics_file,
               metrics=report['metrics'])
    if report.get('bootstrap'):
        out['bootstrap'] = report['bootstrap']
    return out


def run_fold(cv: CrossVal, k: int, env: Dict[str, str]) -> Dict[str, Any]:
    """Train (or resume) and evaluate fold ``k`` unless its result exists."""
    from pennfudan_vit.apis import atomic_write_json
    fold_dir = osp.join(cv.work_dir, f'fold{k}')
    result_path = osp.join(fold_dir, 'cv_result.json')
    result = _load_json(result_path) if osp.isfile(result_path) else None
    todo = result is None or (cv.also_test and 'test_split' not in result)
    if not todo:
        print(f'[cross_val] fold {k}: finished earlier, skipped ({result_path})', flush=True)
        return result
    start = time.time()
    if result is None:
        resume = bool(glob.glob(osp.join(fold_dir, '*.pth')))
        if resume and training_finished(fold_dir, cv.cfg):
            print(f'[cross_val] fold {k}: training finished earlier', flush=True)
        else:
            args = [cv.config, '--work-dir', fold_dir, *(['--resume'] if resume else []),
                    '--cfg-options', *cv.user_options,
                    *split_options(cv.data_root, fold_ann(k, 'train'), fold_ann(k, 'val'),
                                   TEST_ANN)]
            run_step(launch_cmd('train.py', args, cv.launcher, cv.gpus, f'cv-fold{k}'),
                     f'fold {k}/{cv.folds}: {"resuming" if resume else "training"}', env)
        ckpt = pick_checkpoint(fold_dir, cv.checkpoint, cv.cfg)
        result = dict(
            fold=k, config=cv.config, data_root=cv.data_root, checkpoint=ckpt,
            checkpoint_rule=cv.checkpoint, train_ann=fold_ann(k, 'train'),
            n_train=cv.n_train[k], n_heldout=cv.n_val[k], resumed=resume,
            heldout=evaluate(cv, fold_dir, ckpt, k, fold_ann(k, 'val'), env, 'heldout'))
    if cv.also_test and 'test_split' not in result:
        result['test_split'] = evaluate(cv, fold_dir, result['checkpoint'], k, TEST_ANN, env,
                                        'test')
        result['n_test'] = cv.n_test
    result['seconds'] = round(result.get('seconds', 0) + time.time() - start, 1)
    atomic_write_json(result_path, result)
    print(f'[cross_val] fold {k}: done ({result_path})', flush=True)
    return result


def aggregate(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample std (ddof=1) over folds; COCO's -1 (undefined) is left out."""
    defined = [v for v in values if v is not None and v >= 0]
    return dict(mean=statistics.fmean(defined) if defined else None,
                std=statistics.stdev(defined) if len(defined) > 1 else None)


def summarize_split(results: List[Dict[str, Any]], split: str, n_key: str) -> Dict[str, Any]:
    keys = sorted(set.intersection(*(set(r[split]['metrics']) for r in results)))
    stats = {key: aggregate([r[split]['metrics'][key] for r in results]) for key in keys}
    return dict(
        per_fold=[dict(fold=r['fold'], n_train=r['n_train'], n_eval=r[n_key],
                       checkpoint=r['checkpoint'], metrics_file=r[split]['metrics_file'],
                       metrics=r[split]['metrics']) for r in results],
        mean={k: v['mean'] for k, v in stats.items()},
        std={k: v['std'] for k, v in stats.items()})


def _fmt(x: Optional[float]) -> str:
    return 'n/a' if x is None else f'{x:.3f}'


def format_table(summary: Dict[str, Any]) -> str:
    """Markdown table: one row per fold, then mean ± std."""
    head = ['fold', 'train imgs', 'eval imgs'] + [name for _, name in TABLE_METRICS]
    rows = [[str(r['fold']), str(r['n_train']), str(r['n_eval'])] +
            [_fmt(r['metrics'].get(key)) for key, _ in TABLE_METRICS]
            for r in summary['per_fold']]
    rows.append(['mean ± std', '', ''] + [
        f'{_fmt(summary["mean"].get(key))} ± {_fmt(summary["std"].get(key))}'
        for key, _ in TABLE_METRICS])
    widths = [max(len(row[i]) for row in [head] + rows) for i in range(len(head))]

    def line(row: List[str]) -> str:
        return '| ' + ' | '.join(c.rjust(w) for c, w in zip(row, widths)) + ' |'

    rule = '|' + '|'.join('-' * (w + 1) + ':' for w in widths) + '|'
    return '\n'.join([line(head), rule] + [line(r) for r in rows])


def write_summary(cv: CrossVal, results: List[Dict[str, Any]]) -> str:
    """Write ``W/cv_summary.json`` and ``W/cv_summary.md``; return the markdown."""
    from pennfudan_vit.apis import atomic_write_json
    seed = (cv.cfg.get('randomness') or {}).get('seed')
    summary: Dict[str, Any] = dict(
        config=cv.config, folds=cv.folds, data_root=cv.data_root, seed=seed,
        split_seed=cv.split_seed, checkpoint=cv.checkpoint, cfg_options=cv.user_options,
        std='sample standard deviation over folds (ddof=1); COCO -1 values left out',
        heldout=summarize_split(results, 'heldout', 'n_heldout'))
    if cv.also_test:
        summary['test_split'] = summarize_split(results, 'test_split', 'n_test')
    options = ' '.join(cv.user_options) or 'none'
    md = [f'# Cross-validation: {osp.basename(cv.config)}', '',
          f'- config: `{cv.config}`',
          f'- data root: `{cv.data_root}`, {cv.folds} folds (split seed {cv.split_seed})',
          f'- training seed: {seed}, checkpoint: {cv.checkpoint}, cfg-options: `{options}`', '',
          '## Each fold model on its held-out fold', '', format_table(summary['heldout']), '']
    if cv.also_test:
        md += [f'## Every fold model on the test split ({cv.n_test} images)', '',
               format_table(summary['test_split']), '']
    md += [f'mean ± sample std (ddof=1) over the {cv.folds} folds; COCOeval runs once over '
           'each evaluated split.']
    text = '\n'.join(md) + '\n'
    atomic_write_json(osp.join(cv.work_dir, 'cv_summary.json'), summary)
    tmp = osp.join(cv.work_dir, '.cv_summary.md.tmp')
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, osp.join(cv.work_dir, 'cv_summary.md'))
    return text


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the step, as Ctrl-C
    try:
        cv = prepare(args)
        os.makedirs(cv.work_dir, exist_ok=True)
        lock = open(osp.join(cv.work_dir, '.cv_lock'), 'a')  # 'a': leaves its mtime alone
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CrossValError(f'another tools/cross_val.py is running in {cv.work_dir}')
        check_plan(cv)
        print(f'[cross_val] {cv.folds} folds of {cv.config} on {cv.data_root} '
              f'(split seed {cv.split_seed}) -> {cv.work_dir}; evaluating the '
              f'{cv.checkpoint} checkpoint on each held-out fold'
              f'{" and the test split" if cv.also_test else ""}', flush=True)
        env = dict(os.environ, PY=sys.executable)  # tools/torchrun.sh's interpreter
        results = [run_fold(cv, k, env) for k in range(cv.folds)]
        text = write_summary(cv, results)
    except CrossValError as e:
        sys.exit(f'error: {e}')
    except KeyboardInterrupt:
        sys.exit('error: interrupted; rerun the same command to resume')
    print('\n' + text)
    print(f'[cross_val] summary: {osp.join(cv.work_dir, "cv_summary.json")}, '
          f'{osp.join(cv.work_dir, "cv_summary.md")}')


if __name__ == '__main__':
    main()
