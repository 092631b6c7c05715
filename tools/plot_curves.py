"""Plot training losses and validation bbox/segm mAP from a work dir, as one PNG.

    python tools/plot_curves.py WORK_DIR [--out WORK_DIR/curves.png]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` that mmengine's
LocalVisBackend wrote (a resumed run adds a folder; later records win).
"""
import argparse
import os.path as osp

from pennfudan_vit.errors import cli_entry
from pennfudan_vit.visualization.curves import plot_curves


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='PNG path (default WORK_DIR/curves.png)')
    args = parser.parse_args(argv)
    out = plot_curves(args.work_dir, args.out or osp.join(args.work_dir, 'curves.png'))
    print(f'[plot_curves] wrote {out}')


if __name__ == '__main__':
    main()
