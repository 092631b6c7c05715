"""Convert your own instance masks (PNG) to COCO instance segmentation with exact RLE masks.

    python data_prep/masks_to_coco.py DATA [--out DIR] [--seed 0] [--ratios 0.8 0.1 0.1]

DATA holds ``images/`` (PNG or JPEG), ``masks/`` (per image ``NAME.png`` of instance ids,
0 = background, or a folder ``NAME/`` of one binary ``ID.png`` per object) and
``classes.csv`` (``image,instance_id,class``, a row per object). Writes
``DATA/annotations/instances_{train,val,test}.json``. See docs/custom_dataset.md.
"""
from __future__ import annotations

import argparse
import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from pennfudan_vit.errors import UserError, cli_entry

from data_prep.atomic_folder import write_folder
from data_prep.coco import MASK_FORMATS, ImageRecord, build_coco, dump_json, encode_mask
from data_prep.pennfudan import read_mask
from data_prep.splits import SPLIT_NAMES, stratified_split

IMAGES, MASKS, CLASSES = 'images', 'masks', 'classes.csv'
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')
EXIF_ORIENTATION = 0x0112
OUTPUTS = [f'instances_{split}.json' for split in SPLIT_NAMES]
ObjectKey = tuple[str, int]  # (image file name, instance id)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data', type=Path, help='folder with images/, masks/ and classes.csv')
    parser.add_argument('--out', type=Path, help='folder of the JSON files '
                        '(default: DATA/annotations)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the split (0)')
    parser.add_argument('--ratios', type=float, nargs=3, default=[.8, .1, .1],
                        metavar=('TRAIN', 'VAL', 'TEST'), help='positive, sum 1 (0.8 0.1 0.1)')
    parser.add_argument('--mask-format', choices=MASK_FORMATS, default='rle',
                        help='rle: exact (default); polygon: approximate OpenCV outlines')
    parser.add_argument('--overwrite', action='store_true', help='replace earlier JSON files')
    args = parser.parse_args(argv)
    if not all(math.isfinite(r) and r > 0 for r in args.ratios) or abs(sum(args.ratios) - 1) > 1e-6:
        parser.error(f'--ratios needs three positive numbers summing to 1, got {args.ratios}')
    args.out = args.out or args.data / 'annotations'
    return args


def read_classes(path: Path) -> dict[ObjectKey, str]:
    """(image, instance id) -> class name, from ``classes.csv``."""
    if not path.is_file():
        raise UserError(f'{path} does not exist: write one row "image,instance_id,class" per '
                        f'object (docs/custom_dataset.md)')
    with open(path, newline='', encoding='utf-8-sig') as f:
        rows = list(csv.reader(f))
    if not rows or [c.strip() for c in rows[0]] != ['image', 'instance_id', 'class']:
        raise UserError(f'{path}: the first line must be the header "image,instance_id,class"')
    table: dict[ObjectKey, str] = {}
    for lineno, row in enumerate(rows[1:], 2):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != 3 or not cells[1].isdigit() or int(cells[1]) == 0 or not cells[2]:
            raise UserError(f'{path} line {lineno}: expected "image,instance_id,class" with an '
                            f'instance id >= 1 and a class name, got {",".join(row)!r}')
        key = (cells[0], int(cells[1]))
        if key in table:
            raise UserError(f'{path} line {lineno}: {key[0]} instance {key[1]} is listed twice')
        table[key] = cells[2]
    return table


def image_size(data: Path, name: str) -> tuple[int, int]:
    """(w, h) of an image as its pixels are stored, which is how its masks are drawn."""
    try:
        with Image.open(data / IMAGES / name) as image:
            size, rotated = image.size, image.getexif().get(EXIF_ORIENTATION, 1) != 1
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UserError(f'{data / IMAGES / name}: not a readable image ({exc})') from None
    if rotated:  # OpenCV, which training reads images with, would turn it upright
        raise UserError(f'{data / IMAGES / name} has an EXIF rotation: save it and its masks '
                        'upright (e.g. PIL.ImageOps.exif_transpose)')
    return size


def object_masks(data: Path, name: str, size: tuple[int, int]) -> dict[int, np.ndarray]:
    """Instance id -> binary mask of every object of image ``name``."""
    stem = Path(name).stem
    if (data / MASKS / f'{stem}.png').is_file():
        label = read_mask(data, f'{MASKS}/{stem}.png', size)
        return {int(i): label == i for i in np.unique(label) if i != 0}
    if not (data / MASKS / stem).is_dir():
        raise UserError(f'{data / IMAGES / name} has no mask: add {data / MASKS / stem}.png '
                        f'(instance ids) or {data / MASKS / stem}/ (one ID.png per object)')
    masks = {}
    for path in sorted((data / MASKS / stem).glob('*.png')):
        if not path.stem.isdigit() or int(path.stem) == 0:
            raise UserError(f'{path}: name a per-object mask by its instance id, e.g. 1.png')
        binary = read_mask(data, f'{MASKS}/{stem}/{path.name}', size) != 0
        if not binary.any():
            raise UserError(f'{path} is empty: an object mask needs non-zero pixels')
        masks[int(path.stem)] = binary
    return masks


def load_records(data: Path, table: dict[ObjectKey, str], mask_format: str
                 ) -> tuple[list[ImageRecord], list[str]]:
    """Every image with its objects (category ids by class-name order), and the classes."""
    names = sorted(p.name for p in (data / IMAGES).iterdir()
                   if p.suffix.lower() in IMAGE_SUFFIXES) if (data / IMAGES).is_dir() else []
    if not names:
        raise UserError(f'{data / IMAGES}: no {"/".join(IMAGE_SUFFIXES)} images')
    stems = Counter(Path(n).stem for n in names)
    twin = next((stem for stem, count in stems.items() if count > 1), None)
    if twin:
        raise UserError(f'{data / IMAGES}: two images are named {twin}.*, so they would share '
                        'their masks: rename one')
    orphan = next((p for p in sorted((data / MASKS).glob('*'))
                   if (p.is_dir() or p.suffix == '.png') and p.stem not in stems), None)
    if orphan:
        raise UserError(f'{orphan} belongs to no image: {data / IMAGES} has no {orphan.stem}.*')
    unknown = next((k for k in sorted(table) if k[0] not in names), None)
    if unknown:
        raise UserError(f'{data / CLASSES} names {unknown[0]}, which is not in {data / IMAGES}')
    classes = sorted(set(table.values()))
    records, seen = [], set()
    for image_id, name in enumerate(names, 1):
        size = image_size(data, name)
        record = ImageRecord(image_id, name, size[0], size[1], [])
        for mask_id, binary in object_masks(data, name, size).items():
            if (name, mask_id) not in table:
                raise UserError(f'{data / CLASSES} has no row for {name} instance {mask_id}: '
                                f'add "{name},{mask_id},CLASS"')
            instance = encode_mask(binary, mask_id, mask_format)
            instance.category_id = classes.index(table[name, mask_id]) + 1
            record.instances.append(instance)
            seen.add((name, mask_id))
        records.append(record)
    missing = next((k for k in sorted(table) if k not in seen), None)
    if missing:
        raise UserError(f'{data / CLASSES} lists {missing[0]} instance {missing[1]}, which its '
                        f'masks do not hold')
    for ann_id, instance in enumerate((i for r in records for i in r.instances), 1):
        instance.ann_id = ann_id
    return records, classes


def build_outputs(args: argparse.Namespace, records: list[ImageRecord], classes: list[str]
                  ) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """File name -> JSON bytes of each split, and each split's image names. Each split
    holds each mix of classes in proportion, so a rare class still reaches training."""
    mix = {r.file_name: '+'.join(sorted({classes[i.category_id - 1] for i in r.instances}))
           for r in records}
    splits = stratified_split(sorted(mix), args.ratios, args.seed, mix.get)
    empty = next((s for s, members in splits.items() if not members), None)
    if empty:
        raise UserError(f'--ratios {" ".join(map(str, args.ratios))} leave the {empty} split '
                        f'empty for {len(records)} images: add images or change --ratios')
    categories = [{'id': k, 'name': name, 'supercategory': name}
                  for k, name in enumerate(classes, 1)]
    outputs = {}
    for split, members in splits.items():
        info = {'description': 'converted by data_prep/masks_to_coco.py', 'split': split,
                'seed': args.seed, 'ratios': list(args.ratios), 'mask_format': args.mask_format}
        outputs[f'instances_{split}.json'] = dump_json(build_coco(
            [r for r in records if r.file_name in members], info,
            categories=categories, image_dir=IMAGES))
    return outputs, splits


def convert(args: argparse.Namespace) -> None:
    if not args.data.is_dir():
        raise UserError(f'{args.data} is not a folder (images/, masks/, classes.csv)')
    if args.out.exists():
        if not args.out.is_dir():
            raise UserError(f'--out {args.out} exists and is not a folder')
        found = sorted(p.name for p in args.out.iterdir())
        foreign = [name for name in found if name not in OUTPUTS]
        if foreign:
            raise UserError(f'--out {args.out} holds {foreign[0]}, which this tool did not '
                            f'write: choose a new or empty folder')
        if found and not args.overwrite:
            raise UserError(f'{args.out / found[0]} already exists: pass --overwrite')
    records, classes = load_records(args.data, read_classes(args.data / CLASSES),
                                    args.mask_format)
    outputs, splits = build_outputs(args, records, classes)
    write_folder(args.out, lambda tmp: [(tmp / n).write_bytes(b) for n, b in outputs.items()])
    for split, members in splits.items():
        counts = Counter(classes[i.category_id - 1] for r in records if r.file_name in members
                         for i in r.instances)
        print(f'{split}: {len(members)} images, objects: ' +
              ', '.join(f'{name} {counts[name]}' for name in classes))
    print(f'wrote {", ".join(OUTPUTS)} to {args.out}')
    print(f'classes for the config: metainfo = dict(classes={tuple(classes)!r})')


@cli_entry
def main(argv: list[str] | None = None) -> None:
    convert(parse_args(argv))


if __name__ == '__main__':
    main()
