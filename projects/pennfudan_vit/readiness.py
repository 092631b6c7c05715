"""The GPU readiness check: the steps ``tools/gpu_readiness.py`` runs, and its summary.

On a CUDA machine: set up (mmcv with CUDA ops), time the main config at 640 px with
AMP, train it for a few hundred iterations, and test the CPU-trained checkpoint on
the GPU. ``dry_run`` runs the same steps on the CPU at a toy size, to prove the wiring.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

MAIN_CONFIG = 'configs/vit_mrcnn_pennfudan.py'
CPU_CONFIG = 'configs/deit-tiny_mrcnn_pennfudan_cpu.py'
MAP_KEYS = ('coco/bbox_mAP', 'coco/segm_mAP')


@dataclass
class Step:
    """One command of the check; ``record`` is the JSON file it leaves, if any."""
    name: str
    argv: List[str]
    record: Optional[str] = None


def plan(work_dir: str, checkpoint: str, python: str = 'python', iters: int = 300,
         dry_run: bool = False, setup: bool = True,
         data_root: Optional[str] = None) -> List[Step]:
    """The commands, in order, with their output files under ``work_dir``."""
    device = 'cpu' if dry_run else 'cuda'
    toy = ['--input-size', '128', '128'] if dry_run else []
    data = ['--data-root', data_root] if data_root else []
    bench = osp.join(work_dir, 'benchmark.json')
    train_dir, test_dir = osp.join(work_dir, 'train'), osp.join(work_dir, 'test')
    steps = []
    if setup:
        steps.append(Step('setup', ['make', 'setup'] if not dry_run else
                          [python, 'tools/check_env.py', '--quiet']))
    steps.append(Step('benchmark', [
        python, 'tools/benchmark.py', MAIN_CONFIG, '--device', device, '--mode', 'both',
        '--flops', '--out', bench, *toy, *data,
        *(['--iters', '1', '--warmup', '0', '--batch-size', '1'] if dry_run else
          ['--amp', '--iters', '50', '--warmup', '10'])], bench))
    # a few hundred iterations: the train split gives one iteration per batch of 8 images
    epochs = 1 if dry_run else max(1, -(-iters // 17))
    steps.append(Step('train', [
        python, 'tools/train.py', MAIN_CONFIG, '--work-dir', train_dir, *toy, *data,
        *([] if dry_run else ['--amp']), '--cfg-options',
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
        # the GPU machine may be offline: random init, as the benchmark
        'model.backbone.init_cfg=None',
        *(['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False',
           'train_dataloader.dataset.indices=4', 'val_dataloader.dataset.indices=2',
           'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
          if dry_run else [])]))
    steps.append(Step('test', [
        python, 'tools/test.py', CPU_CONFIG, checkpoint, '--work-dir', test_dir, *data,
        *(['--cfg-options', 'test_dataloader.dataset.indices=2',
           'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
          if dry_run else [])]))
    return steps


def _latest_metrics(test_dir: str) -> Optional[Dict[str, Any]]:
    import glob
    found = sorted(glob.glob(osp.join(test_dir, 'test_*', 'metrics.json')))
    if not found:
        return None
    with open(found[-1]) as f:
        return json.load(f)


def summarize(work_dir: str) -> Dict[str, Any]:
    """The headline figures from what the steps left in ``work_dir``."""
    out: Dict[str, Any] = {}
    bench = osp.join(work_dir, 'benchmark.json')
    if osp.isfile(bench):
        with open(bench) as f:
            rec = json.load(f)
        train, infer = rec.get('train', {}), rec.get('infer', {})
        out.update(
            device=rec.get('device_name'), input_size=rec.get('input_size'),
            train_img_s=train.get('img_per_s'), infer_img_s=infer.get('img_per_s'),
            infer_ms_batch1=infer.get('latency_ms_batch1', {}).get('median'),
            peak_mem_mib=max((p.get('cuda_max_allocated_mib') or p.get('max_rss_mib') or 0)
                             for p in (train, infer)),
            matmul_peak_gflops_s=rec.get('matmul_peak', {}).get('gflops_s'),
            train_of_peak=train.get('flops_per_iter', {}).get('fraction_of_matmul_peak'))
    metrics = _latest_metrics(osp.join(work_dir, 'test'))
    if metrics:
        out['cpu_checkpoint_test'] = {k: metrics['metrics'].get(k) for k in MAP_KEYS}
    if osp.isdir(osp.join(work_dir, 'train')):
        from .visualization.curves import read_scalars
        train, val = read_scalars(osp.join(work_dir, 'train'))
        if val:
            last = val[max(val)]
            out['short_train_val'] = dict({k: last.get(k) for k in MAP_KEYS},
                                          iters=max(train) if train else None)
    return out
