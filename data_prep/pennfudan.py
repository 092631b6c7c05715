"""Read and validate a Penn-Fudan copy (a folder or a zip) into image records.

The pixel masks in ``PedMasks/`` are the ground truth; ``Annotation/*.txt``
boxes only cross-check them. Each (image, object index) entry of
``added-object-list.txt`` is verified to be a mask id whose annotated box
matches that mask best, instead of assuming the mapping.
"""
from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from pennfudan_vit.errors import UserError

from .coco import ImageRecord, Instance, encode_instances

IMAGES, MASKS, ANNOTATIONS, ADDED_LIST = 'PNGImages', 'PedMasks', 'Annotation', \
    'added-object-list.txt'
MASK_SUFFIX = '_mask.png'
_COUNT_RE = re.compile(r'^Objects with ground truth\s*:\s*(\d+)', re.M)
# Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (16, 18) - (30, 43)
_BOX_RE = re.compile(r'^Bounding box for object\s+(\d+)[^:\n]*:\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)'
                     r'\s*-\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)', re.M)
DatasetRoot = Union[Path, zipfile.Path]  # the folder holding PNGImages/, on disk or in a zip
Box = tuple[int, int, int, int]  # inclusive 0-based x1, y1, x2, y2


def collection_of(file_name: str) -> str:
    """The sub-collection of an image: its name before the running number (``PennPed``)."""
    stem = file_name.rsplit('.', 1)[0]
    return re.sub(r'\d+$', '', stem) or stem


@contextlib.contextmanager
def open_dataset(path: Path) -> Iterator[DatasetRoot]:
    """Open a ``PennFudanPed/`` folder, a folder holding it, or a zip of either."""
    archive = None
    if not path.exists():
        raise UserError(f'{path}: no such file or folder')
    if path.is_dir():
        top = path
    elif not zipfile.is_zipfile(path):
        is_zip = path.suffix.lower() == '.zip'
        raise UserError(f'{path}: ' + ('corrupt or truncated zip archive' if is_zip
                                       else 'neither a folder nor a zip archive'))
    else:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UserError(f'{path}: corrupt zip archive ({exc})') from None
        top = zipfile.Path(archive)
    try:
        candidates = [top, *sorted((d for d in top.iterdir() if d.is_dir()), key=lambda d: d.name)]
        for root in candidates:
            if (root / IMAGES).is_dir() and (root / MASKS).is_dir():
                yield root
                return
        raise UserError(f'{path} is not a Penn-Fudan dataset: no {IMAGES}/ and {MASKS}/ folders '
                        f'(expected those of PennFudanPed.zip)')
    finally:
        if archive is not None:
            archive.close()


def _read(root: DatasetRoot, rel: str) -> bytes:
    try:
        return (root / rel).read_bytes()
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise UserError(f'{root / rel}: cannot read ({exc})') from None


def _decode_png(root: DatasetRoot, rel: str) -> Image.Image:
    """Fully decode a PNG, so that truncated or corrupt files fail here."""
    try:
        image = Image.open(io.BytesIO(_read(root, rel)))
        if image.format == 'PNG':
            image.load()
    except (OSError, SyntaxError, EOFError, zlib.error, Image.DecompressionBombError) as exc:
        raise UserError(f'{root / rel}: corrupt or truncated PNG ({exc})') from None
    if image.format != 'PNG':
        raise UserError(f'{root / rel}: not a PNG file (it is {image.format} data)')
    return image


def png_names(root: DatasetRoot, folder: str, warnings: list[str]) -> list[str]:
    """Sorted ``*.png`` names in ``folder``; anything else is a warning."""
    names = []
    for entry in sorted((root / folder).iterdir(), key=lambda e: e.name):
        if entry.is_dir() or not entry.name.endswith('.png'):
            warnings.append(f'ignoring {entry}' + ('/ (a folder)' if entry.is_dir()
                                                   else ' (not a .png file)'))
        else:
            names.append(entry.name)
    return names


def _image_names(root: DatasetRoot, warnings: list[str]) -> list[str]:
    """The sorted image names, each checked to have its mask and vice versa."""
    images, masks = png_names(root, IMAGES, warnings), png_names(root, MASKS, warnings)
    if not images:
        raise UserError(f'{root / IMAGES}: no PNG images')
    bad = [name for name in masks if not name.endswith(MASK_SUFFIX)]
    if bad:
        raise UserError(f'{root / MASKS / bad[0]}: mask names must be <image name>{MASK_SUFFIX}')
    image_stems = {n[:-len('.png')] for n in images}
    for stem in sorted(image_stems ^ {n[:-len(MASK_SUFFIX)] for n in masks}):
        image, mask = f'{IMAGES}/{stem}.png', f'{MASKS}/{stem}{MASK_SUFFIX}'
        has, lacks, what = (image, mask, 'mask') if stem in image_stems else (mask, image, 'image')
        raise UserError(f'{root / has} has no {what}: {root / lacks} is missing')
    return images


def _added_list(root: DatasetRoot, warnings: list[str]) -> dict[str, list[int]]:
    """Parse ``added-object-list.txt``: image name -> object indices."""
    added: dict[str, list[int]] = {}
    for lineno, line in enumerate(_read(root, ADDED_LIST).decode('latin-1').splitlines(), 1):
        parts, where = line.split(), f'{root / ADDED_LIST} line {lineno}'
        if not parts or parts[0].startswith('#'):
            continue
        if len(parts) != 2 or not parts[1].isdigit():
            raise UserError(f'{where}: expected "<image>.png <index>", got {line.strip()!r}')
        name = parts[0] if parts[0].endswith('.png') else parts[0] + '.png'
        indices = added.setdefault(name, [])
        if int(parts[1]) in indices:
            warnings.append(f'{where}: duplicate entry {line.strip()!r}')
        else:
            indices.append(int(parts[1]))
    return added


def _pascal_boxes(text: str) -> tuple[int | None, dict[int, Box]]:
    """The declared object count and the boxes of a PASCAL v1.00 annotation text."""
    count = _COUNT_RE.search(text)
    boxes: dict[int, Box] = {}
    for match in _BOX_RE.finditer(text):
        index, *coords = map(int, match.groups())
        boxes.setdefault(index, tuple(v - 1 for v in coords))  # their top-left pixel is (1, 1)
    return (int(count.group(1)) if count else None), boxes


def _xyxy(inst: Instance) -> Box:
    x, y, w, h = inst.bbox
    return x, y, x + w - 1, y + h - 1


def _iou(a: Box, b: Box) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    areas = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return iw * ih / (areas - iw * ih)


def _check_boxes(where: str, count: int | None, boxes: dict[int, Box],
                 instances: list[Instance], box_tol: int, warnings: list[str]) -> None:
    """Warn where an annotation's objects and boxes disagree with the mask."""
    if count is not None and count != len(boxes):
        warnings.append(f'{where}: declares {count} objects but has {len(boxes)} bounding boxes')
    mask_ids = [inst.mask_id for inst in instances]
    if sorted(boxes) != mask_ids:
        warnings.append(f'{where}: {len(boxes)} objects {sorted(boxes)} but the mask has '
                        f'{len(mask_ids)} instances {mask_ids}')
    for inst in (i for i in instances if i.mask_id in boxes):
        ann_box, mask_box = boxes[inst.mask_id], _xyxy(inst)
        diff = max(abs(a - m) for a, m in zip(ann_box, mask_box))
        if diff > box_tol:
            one_based = [','.join(str(v + 1) for v in box) for box in (ann_box, mask_box)]
            warnings.append(f'{where}: object {inst.mask_id} box {one_based[0]} differs by '
                            f'{diff} px from its mask box {one_based[1]} '
                            '(x1,y1,x2,y2, top-left pixel = 1,1)')


def _mark_added(root: DatasetRoot, record: ImageRecord, indices: list[int],
                boxes: dict[int, Box] | None) -> None:
    """Mark listed objects added, each checked to be a mask id that matches its box."""
    by_id = {inst.mask_id: inst for inst in record.instances}
    stem = record.file_name[:-len('.png')]
    for index in indices:
        what = f'{root / ADDED_LIST}: {record.file_name} object {index}'
        if index not in by_id:
            raise UserError(f'{what} does not exist: {root / MASKS / (stem + MASK_SUFFIX)} has '
                            f'instance ids {sorted(by_id) or "none"}')
        if boxes is not None and index not in boxes:
            raise UserError(f'{what} does not exist in {root / ANNOTATIONS / (stem + ".txt")} '
                            f'(objects {sorted(boxes) or "none"})')
        best = index if boxes is None else \
            max(by_id, key=lambda i: (_iou(boxes[index], _xyxy(by_id[i])), -i))
        if best != index:
            raise UserError(f'{what}: its annotated box matches mask instance {best} better than '
                            f'instance {index}, so object indices and mask ids disagree')
        by_id[index].added = True


def read_mask(root: DatasetRoot, rel: str, size: tuple[int, int]) -> np.ndarray:
    """The integer array of a single-channel mask PNG of an image of ``size`` (w, h)."""
    mask_image = _decode_png(root, rel)
    mask = np.asarray(mask_image)
    if mask.ndim != 2 or mask.dtype.kind not in 'biu':
        raise UserError(f'{root / rel}: expected a single-channel mask (instance ids, or 0 and '
                        f'non-zero), got a {mask_image.mode} image')
    if mask_image.size != size:
        raise UserError(f'{root / rel}: mask size {mask_image.size[0]}x{mask_image.size[1]} '
                        f'differs from the image size {size[0]}x{size[1]}')
    return mask.astype(np.uint8) if mask.dtype == bool else mask  # mode '1': one instance


def _load_image(root: DatasetRoot, image_id: int, name: str, mask_format: str) -> ImageRecord:
    """Decode an image and its mask, check them and encode the instances."""
    image = _decode_png(root, f'{IMAGES}/{name}')
    mask = read_mask(root, f'{MASKS}/{name[:-len(".png")]}{MASK_SUFFIX}', image.size)
    return ImageRecord(image_id, name, image.size[0], image.size[1],
                       encode_instances(mask, mask_format))


def load_pennfudan(root: DatasetRoot, mask_format: str = 'rle', skip_empty: bool = False,
                   box_tol: int = 5) -> tuple[list[ImageRecord], list[str]]:
    """Read, check and encode every image; return the kept records and the warnings."""
    warnings: list[str] = []
    names = _image_names(root, warnings)
    has_list, has_annotations = (root / ADDED_LIST).is_file(), (root / ANNOTATIONS).is_dir()
    added = _added_list(root, warnings) if has_list else {}
    if not has_list:
        warnings.append(f'{root / ADDED_LIST} is missing: no instance is marked as added')
    if not has_annotations:
        warnings.append(f'{root / ANNOTATIONS}/ is missing: boxes are not cross-checked')
    unknown = sorted(set(added) - set(names))
    if unknown:
        raise UserError(f'{root / ADDED_LIST} lists {unknown[0]}, which is not in {root / IMAGES}')
    records = []
    for image_id, name in enumerate(names, 1):  # skipped images keep their number
        record = _load_image(root, image_id, name, mask_format)
        ann_rel, boxes = f'{ANNOTATIONS}/{name[:-len(".png")]}.txt', None
        if has_annotations and (root / ann_rel).is_file():
            count, boxes = _pascal_boxes(_read(root, ann_rel).decode('latin-1'))
            _check_boxes(str(root / ann_rel), count, boxes, record.instances, box_tol, warnings)
        elif has_annotations:
            warnings.append(f'{root / ann_rel} is missing: boxes of {name} are not cross-checked')
        _mark_added(root, record, added.get(name, []), boxes)
        if not record.instances:
            action = 'skipping the image' if skip_empty else 'keeping it without objects'
            warnings.append(f'{root / MASKS / name[:-len(".png")]}{MASK_SUFFIX} has no instance: '
                            f'{action}')
            if skip_empty:
                continue
        records.append(record)
    for ann_id, inst in enumerate((i for r in records for i in r.instances), 1):
        inst.ann_id = ann_id
    return records, warnings
