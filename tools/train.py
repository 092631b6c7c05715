"""Train a detector with mmengine's Runner (mmdet's tools/train.py, plus checks).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]

Multi-GPU: ``bash tools/dist_train.sh CONFIG NUM_GPUS [args]`` (torchrun).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

from pennfudan_vit.apis import add_config_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable mixed precision (GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr linearly with the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work dir '
        'when no path is given')
    add_config_args(parser)
    return parser.parse_args()


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line, validating as we go."""
    import torch

    from pennfudan_vit.apis import (check_dataset_files, default_work_dir, guard_work_dir,
                                    load_config)
    cfg = load_config(args.config, args.cfg_options, args.data_root, args.launcher,
                      args.local_rank)
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        print('[train] AMP needs a GPU: training in fp32 on this machine', file=sys.stderr)
        cfg.optim_wrapper.type = 'OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint {args.resume} does not exist')
        cfg.resume, cfg.load_from = True, args.resume
    guard_work_dir(cfg.work_dir, resume=args.resume is not None)
    check_dataset_files(cfg, ['train_dataloader'] + (
        ['val_dataloader'] if cfg.get('val_cfg') else []))
    return cfg


def main() -> None:
    args = parse_args()
    import pennfudan_vit  # noqa: F401  (registers modules, safe torch.load globals)
    from mmdet.utils import register_all_modules

    from pennfudan_vit.apis import TOOL_ERRORS, build_runner
    register_all_modules(init_default_scope=False)
    try:
        runner = build_runner(build_cfg(args))
    except TOOL_ERRORS as e:
        sys.exit(f'error: {e}')
    try:
        runner.train()
    except pennfudan_vit.CheckpointDownloadError as e:
        sys.exit(f'error: {e}')
    except TypeError as e:  # loops, hooks and optimizers are built lazily in train()
        if 'unexpected keyword argument' not in str(e):
            raise
        sys.exit(f'error: {e} (check the config and --cfg-options keys)')


if __name__ == '__main__':
    main()
