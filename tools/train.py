"""Train a detector with mmengine's Runner (mmdet's tools/train.py, plus checks).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--vis-backend {local,tensorboard}] [--data-root DIR]
        [--input-size H W] [--cfg-options k=v ...] [--launcher {none,pytorch,slurm}]

Multi-GPU: ``bash tools/dist_train.sh CONFIG NUM_GPUS [args]`` (torchrun).
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config

from pennfudan_vit.config import (add_config_args, add_tensorboard, check_dataset_files,
                                  default_work_dir, load_from_args)
from pennfudan_vit.engine import (build_runner, exit_distributed, guard_work_dir,
                                  lock_work_dir, resume_checkpoint)
from pennfudan_vit.errors import UserError, cli_entry


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable mixed precision (GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr linearly with the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or from the latest readable checkpoint in the work dir '
        'when no path is given; an error when there is nothing to resume')
    parser.add_argument('--vis-backend', choices=['local', 'tensorboard'], default='local',
                        help='tensorboard: also write TensorBoard events (scalars and '
                        'validation images) next to the local logs')
    add_config_args(parser)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line, validating as we go."""
    cfg = load_from_args(args)
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        print('[train] AMP needs a GPU: training in fp32 on this machine', flush=True)
        cfg.optim_wrapper.type = 'OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise UserError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.vis_backend == 'tensorboard':
        add_tensorboard(cfg)

    lock_work_dir(cfg.work_dir)  # before resume and guard look at the folder
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, resume_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise UserError(f'--resume checkpoint {args.resume} does not exist')
        cfg.resume, cfg.load_from = True, args.resume
    if cfg.resume:
        print(f'[train] resuming from {cfg.load_from}', flush=True)
    elif cfg.get('load_from') and '://' not in cfg.load_from and not osp.isfile(cfg.load_from):
        raise UserError(f'load_from {cfg.load_from} does not exist: pass a checkpoint file '
                        f'(--cfg-options load_from=/path/to/FILE.pth) or load_from=None')
    guard_work_dir(cfg.work_dir, resume=args.resume is not None)
    check_dataset_files(cfg, ['train_dataloader'] + (
        ['val_dataloader'] if cfg.get('val_cfg') else []))
    return cfg


@cli_entry
def main() -> None:
    args = parse_args()
    build_runner(build_cfg(args)).train()
    exit_distributed()


if __name__ == '__main__':
    main()
