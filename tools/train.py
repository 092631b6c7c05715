"""Train a detector with mmengine's Runner (mmdet's tools/train.py, plus checks).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp | --fp32]
        [--auto-scale-lr] [--vis-backend {local,tensorboard}] [--data-root DIR]
        [--input-size H W] [--cfg-options k=v ...] [--launcher {none,pytorch,slurm}]

Multi-GPU: ``bash tools/dist_train.sh CONFIG NUM_GPUS [args]`` (torchrun). The work
is done by :mod:`pennfudan_vit.training`.
"""
import argparse
from typing import Optional, Sequence

from pennfudan_vit.config import add_config_args, parse_config_args
from pennfudan_vit.engine import exit_distributed
from pennfudan_vit.errors import cli_entry
from pennfudan_vit.training import train, train_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument('--amp', action='store_true',
                           help='the fastest mixed precision this device runs natively: '
                           'fp16 on CUDA, bf16 on a CPU with bf16 units, else fp32 with a note')
    precision.add_argument('--fp32', action='store_true',
                           help='train in fp32 even where the config asks for mixed '
                           'precision (the CPU config trains in bf16 on a CPU with bf16 units)')
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
    return parse_config_args(parser, argv)


@cli_entry
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    train(train_config(
        args.config, work_dir=args.work_dir, resume=args.resume, amp=args.amp, fp32=args.fp32,
        auto_scale_lr=args.auto_scale_lr, vis_backend=args.vis_backend,
        cfg_options=args.cfg_options, data_root=args.data_root, input_size=args.input_size,
        launcher=args.launcher))
    exit_distributed()


if __name__ == '__main__':
    main()
