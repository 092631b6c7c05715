"""A qualitative grid: N split images, predicted masks beside ground truth, one PNG.

    python tools/qualitative_grid.py CONFIG CHECKPOINT [--n 6] [--split test]
        [--score-thr 0.5] [--data-root DIR] [--out grid.png]

Left column: ground-truth instances from the split's COCO JSON; right column:
predictions above --score-thr (mask, box and score), painted as tools/infer.py paints.
"""
import argparse
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--n', type=int, default=6)
    parser.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--data-root', help='dataset root (converter output)')
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')
    parser.add_argument('--out', help='PNG path (default: next to the checkpoint)')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    if args.n < 1 or not 0 <= args.score_thr <= 1:
        raise UserError('--n must be >= 1 and --score-thr in [0, 1]')
    from pennfudan_vit.config import check_dataset_files, load_config
    from pennfudan_vit.detector import resolve_device
    from pennfudan_vit.visualization.grid import qualitative_grid
    cfg = load_config(args.config, data_root=args.data_root)
    check_dataset_files(cfg, [f'{args.split}_dataloader'])
    out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)),
                               f'grid_{args.split}.png')
    qualitative_grid(cfg, args.checkpoint, args.split, args.n, args.score_thr, out,
                     resolve_device(args.device))
    print(f'[qualitative_grid] wrote {out}')


if __name__ == '__main__':
    main()
