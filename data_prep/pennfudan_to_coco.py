"""Convert the Penn-Fudan pedestrian dataset to COCO instance segmentation.

Writes ``OUT/annotations/instances_{train,val,test,all}.json`` (and, with
``--folds K``, ``OUT/annotations/folds/fold{k}_{train,val}.json``) whose
``file_name`` is ``PNGImages/<name>.png`` relative to ``OUT``;
``OUT/PNGImages`` links to the source images (or holds them, extracted, for a
zip source), so a config only needs ``data_root=OUT``. See ``docs/data.md``.

Example::

    python data_prep/pennfudan_to_coco.py \\
        --src ../shared/data/PennFudanPed --out data/pennfudan
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ''):
    # Run as a script: import the package from the repository root instead of
    # letting data_prep/ itself shadow top-level module names.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

# yapf: disable
from data_prep.atomic_output import AtomicOutput  # noqa: E402
from data_prep.coco import build_coco, dump_json  # noqa: E402
from data_prep.download import (PENNFUDAN_URL, default_cache_dir,  # noqa: E402
                                download)
from data_prep.errors import ConversionError  # noqa: E402
from data_prep.masks import MASK_FORMATS  # noqa: E402
from data_prep.pennfudan import (ADDED_LIST, ADDED_MODES,  # noqa: E402
                                 IMAGE_DIR, ImageRecord, load_pennfudan,
                                 source_of)
from data_prep.source import (DatasetSource, FolderSource,  # noqa: E402
                              open_source)
from data_prep.splits import (SPLIT_NAMES, stratified_kfold,  # noqa: E402
                              stratified_split)
from data_prep.summary import format_summary  # noqa: E402

# yapf: enable

OUT_ANN_DIR = 'annotations'
FOLD_DIR = 'folds'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(
        description='Convert Penn-Fudan (folder or PennFudanPed.zip) to COCO '
        'instance-segmentation JSON with stratified train/val/test splits.')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        '--src',
        type=Path,
        help='extracted PennFudanPed/ folder or the PennFudanPed.zip archive')
    src.add_argument(
        '--download',
        action='store_true',
        help='download PennFudanPed.zip into --cache-dir (resuming a partial '
        'download) and convert it')
    parser.add_argument(
        '--out',
        type=Path,
        required=True,
        help='output folder (the data_root of configs)')
    parser.add_argument(
        '--cache-dir',
        type=Path,
        default=default_cache_dir(),
        help='where --download keeps the zip '
        '(default: %(default)s)')
    parser.add_argument(
        '--url',
        default=PENNFUDAN_URL,
        help='download URL (default: the official one)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the split and folds (default: 0)')
    parser.add_argument(
        '--ratios',
        type=float,
        nargs=3,
        default=[.8, .1, .1],
        metavar=('TRAIN', 'VAL', 'TEST'),
        help='split ratios, positive, summing to 1 '
        '(default: 0.8 0.1 0.1)')
    parser.add_argument(
        '--folds',
        type=int,
        metavar='K',
        help='also write K cross-validation folds of the '
        'train+val images (test stays held out)')
    parser.add_argument(
        '--mask-format',
        choices=MASK_FORMATS,
        default='rle',
        help='rle: exact compressed RLE (default); polygon: '
        'OpenCV outlines, approximate, without holes')
    parser.add_argument(
        '--added',
        choices=ADDED_MODES,
        default='keep',
        help='keep the 78 pedestrians of added-object-list.txt '
        'as normal instances (default) or mark them iscrowd=1 '
        'so evaluation ignores them (the original 345-'
        'pedestrian benchmark)')
    parser.add_argument(
        '--box-tol',
        type=int,
        default=5,
        metavar='PX',
        help='warn when an Annotation/*.txt box differs from '
        'its mask box by more than PX pixels (default: 5)')
    parser.add_argument(
        '--skip-empty',
        action='store_true',
        help='drop images whose mask has no pedestrian '
        '(default: keep them without objects)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing outputs, including an '
        'OUT/PNGImages that points elsewhere')
    args = parser.parse_args(argv)
    if (not all(math.isfinite(r) and r > 0 for r in args.ratios)
            or abs(sum(args.ratios) - 1) > 1e-6):
        parser.error('--ratios needs three positive numbers summing to 1, '
                     f'got {" ".join(map(str, args.ratios))}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    if args.folds is not None and args.folds < 2:
        parser.error(f'--folds must be >= 2, got {args.folds}')
    if args.box_tol < 0:
        parser.error(f'--box-tol must be >= 0, got {args.box_tol}')
    return args


def _json_outputs(out: Path, num_folds: int | None) -> dict[str, Path]:
    """Output name (split or fold file) -> path, in writing order."""
    ann = out / OUT_ANN_DIR
    paths = {
        split: ann / f'instances_{split}.json'
        for split in (*SPLIT_NAMES, 'all')
    }
    for k in range(num_folds or 0):
        for part in ('train', 'val'):
            paths[f'fold{k}_{part}'] = ann / FOLD_DIR / f'fold{k}_{part}.json'
    return paths


def _stale_folds(out: Path, planned: dict[str, Path]) -> list[Path]:
    """Fold files of an earlier run that this run would not rewrite."""
    folder = out / OUT_ANN_DIR / FOLD_DIR
    if not folder.is_dir():
        return []
    keep = set(planned.values())
    return sorted(p for p in folder.glob('fold*_*.json') if p not in keep)


def _images_action(source: DatasetSource, out: Path, overwrite: bool) -> str:
    """Decide how ``OUT/PNGImages`` is made: keep, link or extract."""
    link = out / IMAGE_DIR
    target = source.images_dir
    if not os.path.lexists(link):
        return 'extract' if target is None else 'link'
    if target is not None and link.resolve() == target:
        return 'keep'
    if target is None and link.is_dir() and not link.is_symlink():
        names = sorted(
            n for n in source.list_dir(IMAGE_DIR)[0] if n.endswith('.png'))
        have = sorted(p.name for p in link.iterdir())
        if have == names and all(
            (link / n).read_bytes() == source.read_bytes(f'{IMAGE_DIR}/{n}')
                for n in names):
            return 'keep'
    if not overwrite:
        now = (f'links to {os.readlink(link)}'
               if link.is_symlink() else 'holds other files')
        want = (f'a link to {target}'
                if target is not None else 'the images of the zip')
        raise ConversionError(
            f'{link} already exists and {now}; pass --overwrite to replace it '
            f'with {want}')
    return 'extract' if target is None else 'link'


def _info(args: argparse.Namespace, split: str,
          splits: dict[str, list[ImageRecord]], **extra) -> dict:
    """The COCO ``info`` block: provenance and every split's images."""
    return {
        'description': 'Penn-Fudan Database for Pedestrian Detection and '
        'Segmentation, converted by data_prep/pennfudan_to_coco.py',
        'url': PENNFUDAN_URL,
        'contributor': 'Liming Wang, Jianbo Shi, Gang Song, I-fan Shen',
        'year': 2007,
        'version': '1.0',
        'split': split,
        'seed': args.seed,
        'ratios': list(args.ratios),
        'stratified_by': 'source (file-name prefix: FudanPed, PennPed)',
        'splits': {
            name: [f'{IMAGE_DIR}/{r.file_name}' for r in records]
            for name, records in splits.items()
        },
        'added': args.added,
        'mask_format': args.mask_format,
        'skip_empty': args.skip_empty,
        **extra,
    }


def _build_outputs(
    args: argparse.Namespace, records: list[ImageRecord]
) -> tuple[dict[str, bytes], dict[str, list[ImageRecord]]]:
    """Split the records and serialise every output JSON."""
    by_name = {r.file_name: r for r in records}
    names = sorted(by_name)
    split_names = stratified_split(names, args.ratios, args.seed, source_of)
    for split, members in split_names.items():
        if not members:
            raise ConversionError(
                f'--ratios {" ".join(map(str, args.ratios))} leave the '
                f'{split} split empty for {len(names)} images')
    splits = {s: [by_name[n] for n in m] for s, m in split_names.items()}
    crowd = args.added == 'ignore'
    outputs = {
        split:
        dump_json(
            build_coco(splits[split], _info(args, split, splits), crowd))
        for split in SPLIT_NAMES
    }
    outputs['all'] = dump_json(
        build_coco(records, _info(args, 'all', splits), crowd))
    if args.folds:
        pool = split_names['train'] + split_names['val']
        if args.folds > len(pool):
            raise ConversionError(
                f'--folds {args.folds} exceeds the {len(pool)} train+val '
                f'images')
        folds = stratified_kfold(pool, args.folds, args.seed, source_of)
        fold_info = {
            'num_folds': args.folds,
            'fold_pool': 'train+val images; the test split is held out',
            'folds': [[f'{IMAGE_DIR}/{n}' for n in fold] for fold in folds],
        }
        for k, fold in enumerate(folds):
            held_out = set(fold)
            members = {
                'train': [n for n in sorted(pool) if n not in held_out],
                'val': fold,
            }
            for part, fold_names in members.items():
                info = _info(
                    args, f'fold{k}_{part}', splits, fold=k, **fold_info)
                outputs[f'fold{k}_{part}'] = dump_json(
                    build_coco([by_name[n] for n in fold_names], info, crowd))
    return outputs, {**splits, 'all': records}


def _check_outputs(out: Path, paths: list[Path], overwrite: bool) -> None:
    """Refuse to replace existing outputs unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise ConversionError(f'--out {out} exists and is not a folder')
    if not overwrite:
        for path in paths:
            if os.path.lexists(path):
                raise ConversionError(
                    f'{path} already exists; pass --overwrite to replace it')


def _check_source(args: argparse.Namespace, source: DatasetSource) -> None:
    """Checks that need both the options and the opened source."""
    if args.added == 'ignore' and not source.exists(ADDED_LIST):
        raise ConversionError(f'--added ignore needs '
                              f'{source.describe(ADDED_LIST)}, which is '
                              f'missing')
    if isinstance(source, FolderSource):
        root, target = source.root.resolve(), args.out.resolve()
        if root == target or root in target.parents:
            raise ConversionError(
                f'--out {args.out} is inside the dataset folder {root}; '
                f'write the output elsewhere')


def _write_outputs(source: DatasetSource, out: Path, files: dict[Path, bytes],
                   images: str, stale: list[Path]) -> None:
    """Stage every output, then move all of them into place at once."""
    with AtomicOutput() as staged:
        for path, data in files.items():
            staged.write_bytes(path, data)
        if images == 'link':
            staged.symlink(out / IMAGE_DIR, source.images_dir)
        elif images == 'extract':
            folder = staged.make_dir(out / IMAGE_DIR)
            for name in source.list_dir(IMAGE_DIR)[0]:
                if name.endswith('.png'):
                    (folder / name).write_bytes(
                        source.read_bytes(f'{IMAGE_DIR}/{name}'))
        for path in stale:
            staged.remove(path)
        staged.commit()
    if stale:
        with contextlib.suppress(OSError):  # only if nothing else is there
            (out / OUT_ANN_DIR / FOLD_DIR).rmdir()


def convert(args: argparse.Namespace) -> None:
    """Run the conversion described by ``args``; print warnings and summary."""
    start = time.perf_counter()
    paths = _json_outputs(args.out, args.folds)
    stale = _stale_folds(args.out, paths)
    _check_outputs(args.out, [*paths.values(), *stale], args.overwrite)
    src = args.src
    if args.download:
        src = download(args.url, args.cache_dir / 'PennFudanPed.zip')
    with open_source(src) as source:
        _check_source(args, source)
        images = _images_action(source, args.out, args.overwrite)
        dataset = load_pennfudan(source, args.mask_format, args.skip_empty,
                                 args.box_tol)
        outputs, splits = _build_outputs(args, dataset.records)
        _write_outputs(source, args.out, {
            paths[name]: data
            for name, data in outputs.items()
        }, images, stale)

    for warning in dataset.warnings:
        print(f'warning: {warning}', file=sys.stderr)
    sys.stderr.flush()
    print(format_summary(splits, crowd_added=args.added == 'ignore'))
    print(f'wrote {len(outputs)} annotation files to '
          f'{args.out / OUT_ANN_DIR} (images: {args.out / IMAGE_DIR}) in '
          f'{time.perf_counter() - start:.1f} s')


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    try:
        convert(args)
    except ConversionError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. no permission or no space for the output
        where = f'{exc.filename}: ' if exc.filename else ''
        print(f'error: {where}{exc.strerror or exc}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('error: interrupted', file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
