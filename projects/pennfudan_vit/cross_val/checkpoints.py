"""Which checkpoint of a fold: the last one (and whether training finished), or the best."""
import glob
import os.path as osp
import re
from typing import Optional

from mmengine.config import Config

from ..engine.work_dir import checkpoints_in, resume_checkpoint
from ..errors import UserError


def last_checkpoint(fold_dir: str) -> Optional[str]:
    """The checkpoint ``tools/train.py --resume`` continues from, or None."""
    if not checkpoints_in(fold_dir) and not osp.isfile(osp.join(fold_dir, 'last_checkpoint')):
        return None
    try:
        return resume_checkpoint(fold_dir)
    except UserError:  # none readable: training starts over
        return None


def training_finished(fold_dir: str, cfg: Config) -> bool:
    """Whether the last checkpoint is that of the final epoch / iteration."""
    ckpt = last_checkpoint(fold_dir)
    m = ckpt and re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(ckpt))
    if not m:
        return False
    target = cfg.get('train_cfg', {}).get('max_epochs' if m.group(1) == 'epoch' else 'max_iters')
    return target is not None and int(m.group(2)) >= int(target)


def pick_checkpoint(fold_dir: str, rule: str, cfg: Config) -> str:
    """The fold's ``last`` checkpoint, or its ``best`` one by ``save_best``."""
    if rule == 'last':
        ckpt = last_checkpoint(fold_dir)
        if ckpt is None:
            raise UserError(f'no checkpoint in {fold_dir} after training')
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
    raise UserError(f'--checkpoint best: {len(best)} best_*.pth files in {fold_dir} '
                    f'(default_hooks.checkpoint.save_best={save_best!r}); '
                    'use --checkpoint last')
