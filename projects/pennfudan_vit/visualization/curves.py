"""Training curves from a work dir: losses and validation mAP in one PNG."""
import glob
import json
import os.path as osp
from typing import Dict, Tuple

from ..errors import UserError

LOSS_KEYS = ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask')
MAP_KEYS = ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP_50')


def read_scalars(work_dir: str) -> Tuple[Dict[int, dict], Dict[int, dict]]:
    """Train records by iteration and val records by epoch, over all runs."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise UserError(f'no */vis_data/scalars.json under {work_dir}: '
                        f'is it the work dir of a training run?')
    train, val = {}, {}
    for path in files:  # timestamps sort chronologically
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                if any(k.startswith('coco/') for k in rec):
                    val[int(rec['step'])] = rec
                elif 'loss' in rec:
                    train[int(rec.get('iter', rec['step']))] = rec
    return train, val


def plot_curves(work_dir: str, out: str) -> str:
    """Plot losses by iteration and val mAP by epoch of ``work_dir`` into ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    train, val = read_scalars(work_dir)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    for ax, records, keys in ((ax1, train, LOSS_KEYS), (ax2, val, MAP_KEYS)):
        steps = sorted(records)
        for key in keys:
            xs = [i for i in steps if key in records[i]]
            if not xs:
                continue
            style = (dict(linewidth=2 if key == 'loss' else 1) if ax is ax1 else
                     dict(marker='o', linestyle='-' if key.endswith('mAP') else '--'))
            ax.plot(xs, [records[i][key] for i in xs], label=key.split('/')[-1], **style)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax1.set(xlabel='iteration', ylabel='loss', title='training losses', yscale='log')
    ax2.set(xlabel='epoch', ylabel='COCO mAP (val split)', title='validation mAP', ylim=(0, 1))
    fig.suptitle(osp.basename(osp.normpath(work_dir)))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
