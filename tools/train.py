"""Train a detector with mmengine's Runner (mmdet's tools/train.py, plus checks).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]

Multi-GPU: ``bash tools/dist_train.sh CONFIG NUM_GPUS [args]`` (torchrun).
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


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
    parser.add_argument('--data-root', help='dataset root (converter output) for every split')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2; keys must exist')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command line, validating as we go."""
    import torch

    from pennfudan_vit.apis import (check_dataset_files, guard_work_dir, set_data_root,
                                    validate_cfg_options)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    validate_cfg_options(cfg, args.cfg_options)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    cfg.launcher = args.launcher
    if args.launcher != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])

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
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from pennfudan_vit.apis import ConfigCheckError
    register_all_modules(init_default_scope=False)
    try:
        cfg = build_cfg(args)
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    except (ConfigCheckError, FileNotFoundError, ValueError, KeyError, TypeError) as e:
        sys.exit(f'error: {e}')
    try:
        runner.train()
    except pennfudan_vit.CheckpointDownloadError as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
