"""Running a cross-validation: every check before the first fold, then per fold
:mod:`pennfudan_vit.training` and :mod:`pennfudan_vit.testing` in this process.
``W/fold{k}/cv_result.json`` marks a finished fold: a rerun with the same settings skips it
and resumes the others; other settings are refused once a fold has started."""
import copy
import glob
import os.path as osp
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.dist import get_rank

from .. import testing
from ..config import load_config, set_input_size
from ..engine import resume_checkpoint
from ..errors import UserError
from ..fileio import atomic_write_json, atomic_write_text, read_json
from ..training import train, train_config
from .folds import TEST_ANN, FoldSplit, check_folds, check_option_keys, fold_ann, fold_configs


@dataclass
class CrossVal:
    """Everything the folds need, checked before the first one starts."""
    config: str
    folds: int
    data_root: str
    work_dir: str
    cfg: Config  # the user's config with --cfg-options and --input-size
    options: Dict[str, Any]  # --cfg-options
    also_test: bool = False
    bootstrap: int = 1000
    launcher: str = 'none'
    split: Optional[FoldSplit] = None
    fold_texts: Dict[str, str] = field(default_factory=dict)


def prepare(config: str, folds: int, cfg_options: Optional[Dict[str, Any]] = None,
            data_root: Optional[str] = None, input_size: Optional[Sequence[int]] = None,
            work_dir: Optional[str] = None, also_test: bool = False,
            bootstrap: int = 1000, launcher: str = 'none') -> CrossVal:
    """Check the command line, config, options and fold files; write nothing."""
    if folds < 2:
        raise UserError(f'--folds must be >= 2, got {folds}')
    if bootstrap < 0:
        raise UserError(f'--bootstrap must be >= 0, got {bootstrap}')
    check_option_keys(list(cfg_options or {}))
    cfg = load_config(config, copy.deepcopy(cfg_options))
    if input_size:
        set_input_size(cfg, tuple(input_size))
    if not (data_root or cfg.get('data_root')):
        raise UserError('the config has no data_root: pass --data-root DIR')
    data_root = osp.abspath(data_root or cfg.data_root)
    cv = CrossVal(config=osp.abspath(config), folds=folds, data_root=data_root,
                  work_dir=osp.abspath(work_dir or osp.join(
                      'work_dirs', 'cv_' + osp.splitext(osp.basename(config))[0])),
                  cfg=cfg, options=dict(cfg_options or {}),
                  also_test=also_test, bootstrap=bootstrap, launcher=launcher,
                  split=check_folds(data_root, folds, also_test))
    cv.fold_texts = fold_configs(cv.config, cfg, data_root, folds, also_test)
    return cv


def write_fold_configs(cv: CrossVal) -> None:
    """Write ``W/fold{k}.py`` (and ``_test_split.py``); refused where the file differs and
    its fold has started (other settings: resuming would mix runs)."""
    texts = {osp.join(cv.work_dir, name): text for name, text in cv.fold_texts.items()}
    changed = [p for p, text in texts.items() if not osp.isfile(p) or Path(p).read_text() != text]
    for path in changed:
        fold_dir = re.sub(r'(_test_split)?\.py$', '', path)
        if osp.isfile(path) and glob.glob(osp.join(fold_dir, '*.pth')) + glob.glob(
                osp.join(fold_dir, 'cv_result.json')):
            raise UserError(f'{cv.work_dir} holds a cross-validation run with other settings '
                            f'({path} differs); rerun with the same settings to resume it, '
                            'or choose another --work-dir')
    for path in changed:
        atomic_write_text(path, texts[path])


def last_checkpoint(fold_dir: str) -> Optional[str]:
    """The checkpoint training resumes from, or None (damaged ones are skipped)."""
    try:
        return resume_checkpoint(fold_dir)
    except UserError:
        return None


def training_finished(checkpoint: Optional[str], cfg: Config) -> bool:
    """Whether ``checkpoint`` is that of the final epoch / iteration."""
    m = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(checkpoint or ''))
    target = m and cfg.train_cfg.get(f'max_{m.group(1)}s')
    return bool(target) and int(m.group(2)) >= int(target)


def final_checkpoint(fold_dir: str) -> str:
    """The checkpoint a fold is evaluated with: its last one."""
    ckpt = last_checkpoint(fold_dir)
    if ckpt is None:
        raise UserError(f'no checkpoint in {fold_dir} after training')
    return ckpt


def evaluate(cv: CrossVal, k: int, ckpt: str, test_split: bool = False) -> Optional[dict]:
    """Test ``ckpt`` on fold k's held-out part (or the test split): where its metrics are,
    and their values (None on ranks other than 0)."""
    name, ann = ('test', TEST_ANN) if test_split else ('heldout', fold_ann(k, 'val'))
    print(f'[cross_val] fold {k}: evaluating {osp.basename(ckpt)} on {ann}', flush=True)
    cfg = testing.test_config(
        osp.join(cv.work_dir, f'fold{k}{"_test_split" if test_split else ""}.py'), ckpt,
        work_dir=osp.join(cv.work_dir, f'fold{k}', f'eval_{name}'), launcher=cv.launcher)
    report = testing.test(cfg, ckpt, bootstrap=cv.bootstrap)
    return report and dict(ann_file=osp.join(cv.data_root, ann), metrics=report['metrics'],
                           metrics_file=osp.join(cfg.work_dir, 'metrics.json'),
                           bootstrap=report.get('bootstrap'))


def run_fold(cv: CrossVal, k: int) -> Dict[str, Any]:
    """Train (or resume) and evaluate fold ``k`` unless its result exists."""
    fold_dir = osp.join(cv.work_dir, f'fold{k}')
    result_path = osp.join(fold_dir, 'cv_result.json')
    result = read_json(result_path) if osp.isfile(result_path) else None
    if result is not None and (not cv.also_test or 'test_split' in result):
        print(f'[cross_val] fold {k}: finished earlier, skipped ({result_path})', flush=True)
        return result
    began = time.time()
    if result is None:
        resume = bool(glob.glob(osp.join(fold_dir, '*.pth')))
        if resume and training_finished(last_checkpoint(fold_dir), cv.cfg):
            print(f'[cross_val] fold {k}: training finished earlier', flush=True)
        else:
            cfg = train_config(osp.join(cv.work_dir, f'fold{k}.py'), work_dir=fold_dir,
                               resume='auto' if resume else None, launcher=cv.launcher)
            print(f'[cross_val] fold {k}/{cv.folds}: {"resuming" if resume else "training"}',
                  flush=True)
            train(cfg)
        ckpt = final_checkpoint(fold_dir)
        result = dict(
            fold=k, config=cv.config, data_root=cv.data_root, checkpoint=ckpt,
            train_ann=fold_ann(k, 'train'),
            n_train=cv.split.n_train[k], n_heldout=cv.split.n_val[k], resumed=resume,
            heldout=evaluate(cv, k, ckpt))
    if cv.also_test and 'test_split' not in result:
        result.update(test_split=evaluate(cv, k, result['checkpoint'], test_split=True),
                      n_test=cv.split.n_test)
    result['seconds'] = round(result.get('seconds', 0) + time.time() - began, 1)
    if get_rank() == 0:
        atomic_write_json(result_path, result)
        print(f'[cross_val] fold {k}: done ({result_path})', flush=True)
    return result
