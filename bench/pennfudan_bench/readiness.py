"""The GPU readiness run: the main config's step benchmark at 640 px and a short training
from random init (the machine may be offline), with AMP, and the test of a CPU-trained
checkpoint on the GPU; ``dry_run``: the same on the CPU at 128 px with a few images."""
import os.path as osp
import time
from typing import Any, Dict, Optional

from pennfudan_vit import testing
from pennfudan_vit.config import pipeline_size
from pennfudan_vit.fileio import atomic_write_json
from pennfudan_vit.training import train, train_config
from pennfudan_vit.visualization.curves import read_scalars

from .phases import Settings
from .step_bench import prepare_config, run_benchmark

MAIN_CONFIG = 'configs/vit_mrcnn_pennfudan.py'
CPU_CONFIG = 'configs/deit-tiny_mrcnn_pennfudan_cpu.py'
MAP_KEYS = ('coco/bbox_mAP', 'coco/segm_mAP')
ITERS_PER_EPOCH = 17   # the train split at the main config's batch of 8
DRY_RUN = {f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
           for key, value in (('num_workers', 0), ('persistent_workers', False),
                              ('dataset.indices', 4 if split == 'train' else 2))}


def run_readiness(root: str, work_dir: str, checkpoint: str, iters: int = 300,
                  dry_run: bool = False, data_root: Optional[str] = None) -> Dict[str, Any]:
    """The summary of the steps (configs under ``root``), also in ``work_dir``."""
    (device, size), start = ('cpu', [128, 128]) if dry_run else ('cuda', None), time.time()
    print(f'[gpu_readiness] benchmark of {MAIN_CONFIG}', flush=True)
    cfg, _ = prepare_config(osp.join(root, MAIN_CONFIG), None, data_root, 'both', size,
                            1 if dry_run else None)
    rec = run_benchmark(cfg, Settings(device, cfg.train_dataloader.batch_size, *(
        (1, 0) if dry_run else (50, 10)), amp=not dry_run), 'both', size or pipeline_size(
            cfg, 'train_dataloader'), config=MAIN_CONFIG, config_name='vit_mrcnn_pennfudan')
    atomic_write_json(osp.join(work_dir, 'benchmark.json'), rec)
    summary: Dict[str, Any] = dict(
        dry_run=dry_run, device=rec['device_name'], input_size=rec['input_size'],
        train_img_s=rec['train']['img_per_s'], infer_img_s=rec['infer']['img_per_s'],
        infer_ms_batch1=rec['infer']['latency_ms_batch1']['median'],
        peak_mem_mib=max(rec[p]['cuda_max_allocated_mib'] or rec[p]['max_rss_mib']
                         for p in ('train', 'infer')))
    print(f'[gpu_readiness] ({time.time() - start:.0f} s) short training', flush=True)
    epochs, train_dir = 1 if dry_run else -(-iters // ITERS_PER_EPOCH), f'{work_dir}/train'
    train(train_config(osp.join(root, MAIN_CONFIG), train_dir, amp=not dry_run,
                       data_root=data_root, input_size=size, cfg_options={
                           'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': epochs,
                           'model.backbone.init_cfg': None,
                           **({'train_dataloader.batch_size': 2, **DRY_RUN} if dry_run else {})}))
    scalars, val = read_scalars(train_dir)
    summary['short_train_val'] = dict({k: val[max(val)].get(k) for k in MAP_KEYS},
                                      iters=max(scalars))
    print(f'[gpu_readiness] ({time.time() - start:.0f} s) test of {checkpoint}', flush=True)
    report = testing.test(testing.test_config(
        osp.join(root, CPU_CONFIG), checkpoint, osp.join(work_dir, 'test'), data_root=data_root,
        cfg_options={k: v for k, v in DRY_RUN.items() if k.startswith('test')} if dry_run
        else None), checkpoint)
    summary.update(cpu_checkpoint_test={k: report['metrics'][k] for k in MAP_KEYS},
                   seconds=round(time.time() - start, 1))
    atomic_write_json(osp.join(work_dir, 'summary.json'), summary)
    return summary
