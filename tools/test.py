"""Evaluate a checkpoint: COCO bbox + segm mAP with a bootstrap 95% interval.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
        [--show-dir DIR] [--bootstrap N] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}] [--amp]

Each run writes into its own folder ``WORK_DIR/test_<time>/``: the COCO result
files (``results.bbox.json``, ``results.segm.json``), ``metrics.json`` (COCOeval
stats and, unless ``--bootstrap 0``, the bootstrap intervals), the log and the
painted images of ``--show-dir``. The checkpoint must match the config. The work
is done by :mod:`pennfudan_vit.testing`.
"""
import argparse
from typing import Optional, Sequence

from pennfudan_vit import testing
from pennfudan_vit.config import add_config_args, parse_config_args
from pennfudan_vit.engine import exit_distributed
from pennfudan_vit.errors import cli_entry


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test folder is created')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='save painted predictions to '
                        'WORK_DIR/test_<time>/SHOW_DIR')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='score threshold for --show-dir pictures')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates for 95%% intervals (0: off)')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    parser.add_argument('--amp', action='store_true',
                        help='test in the mixed precision this device runs natively (bf16 '
                        'on a CPU with bf16 units, fp16 on CUDA)')
    add_config_args(parser)
    return parse_config_args(parser, argv)


@cli_entry
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = testing.test_config(
        args.config, args.checkpoint, work_dir=args.work_dir, out=args.out,
        show_dir=args.show_dir, score_thr=args.score_thr, cfg_options=args.cfg_options,
        data_root=args.data_root, input_size=args.input_size, launcher=args.launcher,
        amp=args.amp)
    testing.test(cfg, args.checkpoint, bootstrap=args.bootstrap, seed=args.seed,
                 config=args.config)
    exit_distributed()


if __name__ == '__main__':
    main()
