"""Convert the Penn-Fudan pedestrian dataset to COCO instance segmentation (docs/data.md).

    python data_prep/pennfudan_to_coco.py [--src /path/to/PennFudanPed] --out data/pennfudan

Writes ``OUT/annotations/instances_{train,val,test,all}.json`` (with ``--folds
K`` also ``OUT/annotations/folds/fold{k}_{train,val}.json``) and ``OUT/PNGImages``,
a link to the dataset's images or, for a zip, the extracted images.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

from pennfudan_vit.errors import UserError, cli_entry

from data_prep import source
from data_prep.atomic_folder import write_folder
from data_prep.coco import MASK_FORMATS, ImageRecord, build_coco, dump_json
from data_prep.pennfudan import (ADDED_LIST, IMAGES, DatasetRoot, collection_of,
                                 load_pennfudan, open_dataset, png_names)
from data_prep.splits import SPLIT_NAMES, stratified_kfold, stratified_split
from data_prep.dataset_table import format_dataset_table

# Everything the converter writes in OUT; anything else there is the user's.
OUTPUT_NAMES = re.compile(r'PNGImages|annotations(/instances_(train|val|test|all)\.json'
                          r'|/folds(/fold\d+_(train|val)\.json)?)?')
FOLD_FILE = re.compile(r'annotations/folds/fold\d+_(train|val)\.json')
CACHE_DIR = Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'pennfudan-vit'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--src', type=Path, help='PennFudanPed/ folder (or its parent) or its zip; '
                       f'default: ${source.ENV_VAR}, else data/PennFudanPed(.zip), else download')
    where.add_argument('--download', action='store_true',
                       help='use PennFudanPed.zip in --cache-dir, downloading it if missing')
    parser.add_argument('--out', type=Path, required=True, help='output folder (data_root)')
    parser.add_argument('--cache-dir', type=Path, default=CACHE_DIR, help='default: %(default)s')
    parser.add_argument('--url', default=source.OFFICIAL_URL,
                        help='download URL (default: the official one, md5-checked)')
    parser.add_argument('--seed', type=int, default=0, help='seed of split and folds (0)')
    parser.add_argument('--ratios', type=float, nargs=3, default=[.8, .1, .1],
                        metavar=('TRAIN', 'VAL', 'TEST'), help='positive, sum 1 (0.8 0.1 0.1)')
    parser.add_argument('--folds', type=int, metavar='K',
                        help='also write K folds of the train+val images (test stays held out)')
    parser.add_argument('--mask-format', choices=MASK_FORMATS, default='rle',
                        help='rle: exact (default); polygon: approximate OpenCV outlines')
    parser.add_argument('--added', choices=('keep', 'ignore'), default='keep',
                        help='ignore: the 78 added pedestrians get iscrowd=1 (the original '
                        '345-pedestrian benchmark)')
    parser.add_argument('--box-tol', type=int, default=5, metavar='PX',
                        help='warn when an Annotation/*.txt box is PX pixels off its mask (5)')
    parser.add_argument('--skip-empty', action='store_true',
                        help='drop images without pedestrians (default: keep them)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing output')
    args = parser.parse_args(argv)
    ratios = args.ratios
    if not all(math.isfinite(r) and r > 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        parser.error(f'--ratios needs three positive numbers summing to 1, got '
                     f'{" ".join(map(str, args.ratios))}')
    for name, value, low in (('--seed', args.seed, 0), ('--folds', args.folds, 2),
                             ('--box-tol', args.box_tol, 0)):
        if value is not None and value < low:
            parser.error(f'{name} must be >= {low}, got {value}')
    return args


def _check_out(out: Path, overwrite: bool) -> list[str]:
    """Check that ``out`` may be (re)written; return the fold files it holds."""
    if out.exists() and not out.is_dir():
        raise UserError(f'--out {out} exists and is not a folder')
    found = sorted(p.relative_to(out).as_posix() for p in out.glob('**/*')
                   if p.relative_to(out).parts[0] != IMAGES) if out.is_dir() else []
    found += [IMAGES] if os.path.lexists(out / IMAGES) else []
    foreign = [name for name in found if not OUTPUT_NAMES.fullmatch(name)]
    if foreign:
        raise UserError(f'--out {out} holds {foreign[0]}, which this converter did not write; '
                        f'choose a new or empty --out folder')
    if found and not overwrite:
        first = next((name for name in found if name.endswith('.json')), found[0])
        raise UserError(f'{out / first} already exists; pass --overwrite to replace {out}')
    return [name for name in found if FOLD_FILE.fullmatch(name)]


def _info(args: argparse.Namespace, split: str, splits: dict[str, list[ImageRecord]],
          **extra) -> dict:
    """The COCO ``info`` block: provenance, options and every split's images."""
    return {
        'description': 'Penn-Fudan Database for Pedestrian Detection and Segmentation, '
        'converted by data_prep/pennfudan_to_coco.py', 'url': source.OFFICIAL_URL,
        'contributor': 'Liming Wang, Jianbo Shi, Gang Song, I-fan Shen', 'year': 2007,
        'version': '1.0', 'split': split, 'seed': args.seed, 'ratios': list(args.ratios),
        'stratified_by': 'source (file-name prefix: FudanPed, PennPed)',
        'splits': {name: [f'{IMAGES}/{r.file_name}' for r in rs] for name, rs in splits.items()},
        'added': args.added, 'mask_format': args.mask_format, 'skip_empty': args.skip_empty,
        **extra,
    }


def build_outputs(args: argparse.Namespace, records: list[ImageRecord]
                  ) -> tuple[dict[str, bytes], dict[str, list[ImageRecord]]]:
    """Split the records; return each JSON's bytes by path below OUT, and the splits."""
    by_name = {r.file_name: r for r in records}
    split_names = stratified_split(sorted(by_name), args.ratios, args.seed, collection_of)
    for split, members in split_names.items():
        if not members:
            raise UserError(f'--ratios {" ".join(map(str, args.ratios))} leave the {split} split '
                            f'empty for {len(records)} images')
    splits = {s: [by_name[n] for n in m] for s, m in split_names.items()}
    crowd = args.added == 'ignore'
    outputs = {f'annotations/instances_{split}.json': dump_json(build_coco(
        records if split == 'all' else splits[split], _info(args, split, splits), crowd))
        for split in (*SPLIT_NAMES, 'all')}
    pool = split_names['train'] + split_names['val']
    if args.folds and args.folds > len(pool):
        raise UserError(f'--folds {args.folds} exceeds the {len(pool)} train+val images')
    folds = stratified_kfold(pool, args.folds, args.seed, collection_of) if args.folds else []
    for k, fold in enumerate(folds):
        held_out = set(fold)
        for part, names in (('train', [n for n in sorted(pool) if n not in held_out]),
                            ('val', fold)):
            info = _info(args, f'fold{k}_{part}', splits, fold=k, num_folds=args.folds,
                         fold_pool='train+val images; the test split is held out',
                         folds=[[f'{IMAGES}/{n}' for n in f] for f in folds])
            outputs[f'annotations/folds/fold{k}_{part}.json'] = dump_json(
                build_coco([by_name[n] for n in names], info, crowd))
    return outputs, {**splits, 'all': records}


def write_output(tmp: Path, outputs: dict[str, bytes], root: DatasetRoot) -> None:
    """Write the JSON files into ``tmp``, then link (folder) or extract (zip) the images."""
    for rel, data in outputs.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    if isinstance(root, Path):
        (tmp / IMAGES).symlink_to((root / IMAGES).resolve(), target_is_directory=True)
    else:
        (tmp / IMAGES).mkdir()
        for name in png_names(root, IMAGES, []):
            (tmp / IMAGES / name).write_bytes((root / IMAGES / name).read_bytes())


def convert(args: argparse.Namespace) -> None:
    """Run the conversion described by ``args``; print warnings and the summary."""
    start = time.perf_counter()
    previous_folds = _check_out(args.out, args.overwrite)
    if args.download:
        path = source.fetch_zip(args.url, args.cache_dir / source.ZIP_NAME)
        print(f'dataset: {path} (--download from {args.url})', file=sys.stderr)
    else:
        path = source.resolve_source(args.src, args.url)
    with open_dataset(path) as root:
        if args.added == 'ignore' and not (root / ADDED_LIST).is_file():
            raise UserError(f'--added ignore needs {root / ADDED_LIST}, which is missing')
        if isinstance(root, Path) and root.resolve() in (args.out.resolve(),
                                                         *args.out.resolve().parents):
            raise UserError(f'--out {args.out} is inside the dataset folder {root}; '
                            f'write the output elsewhere')
        records, warnings = load_pennfudan(root, args.mask_format, args.skip_empty, args.box_tol)
        outputs, splits = build_outputs(args, records)
        try:
            write_folder(args.out, lambda tmp: write_output(tmp, outputs, root))
        except PermissionError as exc:
            raise UserError(f'--out {args.out}: cannot write {exc.filename} '
                            f'({exc.strerror})') from None
    print(''.join(f'warning: {w}\n' for w in warnings), end='', file=sys.stderr, flush=True)
    removed = [name for name in previous_folds if name not in outputs]
    if removed:
        print(f'removed {len(removed)} fold files of the previous output: {" ".join(removed)}')
    print(format_dataset_table(splits, crowd_added=args.added == 'ignore'))
    print(f'wrote {len(outputs)} annotation files to {args.out / "annotations"} (images: '
          f'{args.out / IMAGES}) in {time.perf_counter() - start:.1f} s')


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; a user's mistake exits with status 2 and one line."""
    convert(parse_args(argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
