"""A cross-validation run's plan: every check before the first fold, and the work dir
it is tied to (``W/cv_plan.json``, one run at a time, resumable)."""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config, DictAction

from ..config import check_dataset_files, load_config, set_input_size
from ..errors import UserError
from ..fileio import atomic_write_json, atomic_write_text
from .fold_configs import check_option_keys, fold_configs
from .folds import FoldSplit, check_folds, read_json

# settings a work dir is tied to: resuming with other values would mix runs
PLAN_KEYS = ('config', 'folds', 'data_root', 'cfg_options', 'checkpoint', 'input_size')


@dataclass
class CrossVal:
    """Everything the folds need, checked before the first one starts."""
    config: str
    folds: int
    data_root: str
    work_dir: str
    cfg: Config
    user_options: List[str]
    input_size: Optional[List[int]] = None
    checkpoint: str = 'last'
    also_test: bool = False
    bootstrap: int = 1000
    launcher: str = 'none'
    gpus: int = 1
    tools_dir: str = 'tools'
    split: FoldSplit = field(default_factory=FoldSplit)
    fold_texts: Dict[str, str] = field(default_factory=dict)


def parse_options(options: Sequence[str]) -> Dict[str, Any]:
    """Parse ``key=value`` strings exactly as train.py / test.py do."""
    for opt in options:
        if '=' not in opt:
            raise UserError(f'--cfg-options "{opt}" is not KEY=VALUE')
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='*', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def _check_launch(folds: int, bootstrap: int, launcher: str, gpus: int) -> None:
    if folds < 2:
        raise UserError(f'--folds must be >= 2, got {folds}')
    if bootstrap < 0:
        raise UserError(f'--bootstrap must be >= 0, got {bootstrap}')
    if gpus < 1 or (gpus > 1 and launcher == 'none'):
        raise UserError(f'--gpus {gpus} needs --launcher pytorch or slurm')
    if 'TORCHELASTIC_RUN_ID' in os.environ:
        raise UserError('run tools/cross_val.py once, not under torchrun: it starts '
                        'torchrun for every step with --launcher pytorch --gpus N')
    if launcher == 'slurm' and shutil.which('srun') is None:
        raise UserError('--launcher slurm: srun is not on PATH')


def _check_fold_configs(texts: Dict[str, str], options: Dict[str, Any],
                        input_size: Optional[Sequence[int]]) -> None:
    """Load every fold config as train.py / test.py will and check its data files."""
    with tempfile.TemporaryDirectory(prefix='cv_configs_') as tmp:
        for name, text in texts.items():
            with open(osp.join(tmp, name), 'w') as f:
                f.write(text)
        for name in texts:
            cfg = load_config(osp.join(tmp, name), dict(options))
            if input_size:
                set_input_size(cfg, tuple(input_size))
            check_dataset_files(cfg, ['test_dataloader'] if name.endswith('_test_split.py')
                                else ['train_dataloader', 'val_dataloader', 'test_dataloader'])


def prepare(config: str, folds: int, cfg_options: Sequence[str] = (),
            data_root: Optional[str] = None, input_size: Optional[Sequence[int]] = None,
            work_dir: Optional[str] = None, checkpoint: str = 'last', also_test: bool = False,
            bootstrap: int = 1000, launcher: str = 'none', gpus: int = 1,
            tools_dir: str = 'tools') -> CrossVal:
    """Check the command line, config, options, fold files and fold configs; write nothing."""
    _check_launch(folds, bootstrap, launcher, gpus)
    user = parse_options(cfg_options)
    cfg = load_config(config, dict(user))
    if input_size:
        set_input_size(cfg, tuple(input_size))
    check_option_keys(cfg, list(user))
    if checkpoint == 'best' and not (cfg.get('default_hooks') or {}).get(
            'checkpoint', {}).get('save_best'):
        raise UserError('--checkpoint best: the config keeps no best checkpoint '
                        '(default_hooks.checkpoint.save_best); use --checkpoint last')
    data_root = data_root or cfg.get('data_root')
    if not data_root:
        raise UserError('the config has no data_root: pass --data-root DIR')
    data_root = osp.abspath(data_root)
    cv = CrossVal(config=osp.abspath(config), folds=folds, data_root=data_root,
                  work_dir=osp.abspath(work_dir or osp.join(
                      'work_dirs', 'cv_' + osp.splitext(osp.basename(config))[0])),
                  cfg=cfg, user_options=list(cfg_options),
                  input_size=list(input_size) if input_size else None, checkpoint=checkpoint,
                  also_test=also_test, bootstrap=bootstrap, launcher=launcher, gpus=gpus,
                  tools_dir=tools_dir, split=check_folds(data_root, folds, also_test))
    cv.fold_texts = fold_configs(cv.config, cfg, data_root, folds, also_test)
    _check_fold_configs(cv.fold_texts, user, input_size)
    if any(key.startswith('test_dataloader.dataset.indices') for key in user):
        print('[cross_val] warning: test_dataloader.dataset.indices: every evaluation sees '
              'only a subset of its split', flush=True)
    return cv


def plan_of(cv: CrossVal) -> Dict[str, Any]:
    """What a work dir is tied to, JSON-normalised for comparison."""
    options = json.loads(json.dumps(parse_options(cv.user_options), sort_keys=True, default=str))
    return dict(config=cv.config, folds=cv.folds, data_root=cv.data_root,
                cfg_options=options, checkpoint=cv.checkpoint, cfg_options_argv=cv.user_options,
                input_size=cv.input_size)


def start(cv: CrossVal) -> None:
    """Tie the work dir to this plan (refused once a fold started with other settings),
    then write the fold configs."""
    path = osp.join(cv.work_dir, 'cv_plan.json')
    plan = plan_of(cv)
    started = glob.glob(osp.join(cv.work_dir, 'fold*', '*.pth')) or glob.glob(
        osp.join(cv.work_dir, 'fold*', 'cv_result.json'))
    if osp.isfile(path) and started:
        old = read_json(path)
        diffs = [f'{k}: {old.get(k)!r}, now {plan[k]!r}' for k in PLAN_KEYS
                 if old.get(k) != plan[k]]
        if diffs:
            raise UserError(f'{cv.work_dir} holds a cross-validation run with other settings '
                            f'({"; ".join(diffs)}); rerun with the same settings to resume '
                            'it, or choose another --work-dir')
    else:
        atomic_write_json(path, plan)
    for name, text in cv.fold_texts.items():
        path = osp.join(cv.work_dir, name)
        if not osp.isfile(path) or open(path).read() != text:
            atomic_write_text(path, text)
