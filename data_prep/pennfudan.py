"""Load and validate a Penn-Fudan copy into per-image instance records.

The pixel masks in ``PedMasks/`` are the ground truth. ``Annotation/*.txt``
boxes are cross-checked against them (disagreements become warnings) and
``added-object-list.txt`` marks the 78 pedestrians labelled after the
original paper; its (image, object index) entries are verified to exist both
as a mask id and as an annotated object whose box matches that mask id,
instead of assuming the mapping.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .errors import ConversionError
from .masks import InstanceMask, encode_instances
from .pascal import PascalAnnotation, parse_pascal_annotation
from .source import DatasetSource

IMAGE_DIR, MASK_DIR, ANN_DIR = 'PNGImages', 'PedMasks', 'Annotation'
ADDED_LIST = 'added-object-list.txt'
MASK_SUFFIX = '_mask.png'
ADDED_MODES = ('keep', 'ignore')


@dataclass
class Instance(InstanceMask):
    """A pedestrian.

    Attributes:
        added: listed in ``added-object-list.txt``.
        ann_id: 1-based annotation id in (image, mask id) order.
    """

    added: bool = False
    ann_id: int = 0


@dataclass
class ImageRecord:
    """One image and its pedestrians.

    Attributes:
        image_id: 1-based position of the image in file-name order.
        file_name: image file name, e.g. ``FudanPed00001.png``.
        width, height: image size in pixels.
        instances: pedestrians in increasing mask-id order.
    """

    image_id: int
    file_name: str
    width: int
    height: int
    instances: list[Instance] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.file_name[:-len('.png')]

    @property
    def source(self) -> str:
        """Sub-collection of the image: ``FudanPed`` or ``PennPed``."""
        return source_of(self.file_name)


@dataclass
class PennFudan:
    """A validated dataset and the warnings found while reading it."""

    records: list[ImageRecord]
    warnings: list[str]


def source_of(file_name: str) -> str:
    """Return the name prefix before the running number (``PennPed``)."""
    stem = file_name.rsplit('.', 1)[0]
    return re.sub(r'\d+$', '', stem) or stem


def _mask_rel(image_name: str) -> str:
    return f'{MASK_DIR}/{image_name[:-len(".png")]}{MASK_SUFFIX}'


def _decode_png(source: DatasetSource, rel: str) -> Image.Image:
    """Fully decode a PNG so that truncated or corrupt files fail here."""
    try:
        img = Image.open(io.BytesIO(source.read_bytes(rel)))
        if img.format != 'PNG':
            raise ConversionError(f'{source.describe(rel)}: not a PNG file '
                                  f'(it is {img.format or "unknown"} data)')
        img.load()
    except ConversionError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error,
            Image.DecompressionBombError) as exc:
        raise ConversionError(
            f'{source.describe(rel)}: corrupt or truncated PNG ({exc})'
        ) from None
    return img


def _png_names(source: DatasetSource, folder: str,
               warnings: list[str]) -> list[str]:
    """List the ``*.png`` files of ``folder``, warning about anything else."""
    files, dirs = source.list_dir(folder)
    for name in files:
        if not name.endswith('.png'):
            warnings.append(f'ignoring {source.describe(f"{folder}/{name}")}'
                            f' (not a .png file)')
    for name in dirs:
        warnings.append(
            f'ignoring {source.describe(f"{folder}/{name}")}/ (a folder)')
    return [n for n in files if n.endswith('.png')]


def _pair_images_and_masks(source: DatasetSource,
                           warnings: list[str]) -> list[str]:
    """Return the sorted image names, each checked to have its mask."""
    images = _png_names(source, IMAGE_DIR, warnings)
    masks = _png_names(source, MASK_DIR, warnings)
    if not images:
        raise ConversionError(f'{source.describe(IMAGE_DIR)}: no PNG images')
    for name in masks:
        if not name.endswith(MASK_SUFFIX):
            raise ConversionError(
                f'{source.describe(f"{MASK_DIR}/{name}")}: mask file names '
                f'must be <image name>{MASK_SUFFIX}')
    image_rels = {n[:-len('.png')]: f'{IMAGE_DIR}/{n}' for n in images}
    mask_rels = {n[:-len(MASK_SUFFIX)]: f'{MASK_DIR}/{n}' for n in masks}
    for have, want, what in ((image_rels, mask_rels, 'mask'),
                             (mask_rels, image_rels, 'image')):
        orphans = sorted(set(have) - set(want))
        if orphans:
            stem = orphans[0]
            expected = (f'{MASK_DIR}/{stem}{MASK_SUFFIX}'
                        if what == 'mask' else f'{IMAGE_DIR}/{stem}.png')
            more = (f' ({len(orphans) - 1} more files have no {what})'
                    if len(orphans) > 1 else '')
            raise ConversionError(
                f'{source.describe(have[stem])} has no {what}: '
                f'{source.describe(expected)} is missing{more}')
    return sorted(images)


def _parse_added_list(source: DatasetSource,
                      warnings: list[str]) -> dict[str, list[int]]:
    """Read ``added-object-list.txt``: image name -> object indices."""
    text = source.read_bytes(ADDED_LIST).decode('latin-1')
    added: dict[str, list[int]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ConversionError(
                f'{source.describe(ADDED_LIST)} line {lineno}: expected '
                f'"<image>.png <object index>", got {line!r}')
        name = parts[0] if parts[0].endswith('.png') else parts[0] + '.png'
        indices = added.setdefault(name, [])
        if int(parts[1]) in indices:
            warnings.append(f'{source.describe(ADDED_LIST)} line {lineno}: '
                            f'duplicate entry {line!r}')
        else:
            indices.append(int(parts[1]))
    return added


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """IoU of two inclusive ``(x1, y1, x2, y2)`` pixel boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    area = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + \
        (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area - inter)


def _xyxy(inst: InstanceMask) -> tuple[int, int, int, int]:
    x, y, w, h = inst.bbox
    return x, y, x + w - 1, y + h - 1


def _cross_check(source: DatasetSource, stem: str, ann: PascalAnnotation,
                 instances: list[Instance], box_tol: int,
                 warnings: list[str]) -> None:
    """Warn where the annotation's objects and boxes disagree with the mask."""
    where = source.describe(f'{ANN_DIR}/{stem}.txt')
    if ann.declared_count is not None and \
            ann.declared_count != len(ann.boxes):
        warnings.append(f'{where}: declares {ann.declared_count} objects but '
                        f'has {len(ann.boxes)} bounding boxes')
    mask_ids = [inst.mask_id for inst in instances]
    if sorted(ann.boxes) != mask_ids:
        warnings.append(
            f'{where}: {len(ann.boxes)} objects '
            f'{sorted(ann.boxes)} but the mask has {len(mask_ids)} '
            f'instances {mask_ids}')
    for inst in instances:
        if inst.mask_id not in ann.boxes:
            continue
        mask_box = _xyxy(inst)
        ann_box = ann.box_0based(inst.mask_id)
        diff = max(abs(a - m) for a, m in zip(ann_box, mask_box))
        if diff > box_tol:
            one_based = ','.join(str(v + 1) for v in mask_box)
            warnings.append(
                f'{where}: object {inst.mask_id} box '
                f'{",".join(map(str, ann.boxes[inst.mask_id]))} differs by '
                f'{diff} px from its mask box {one_based} '
                f'(x1,y1,x2,y2, top-left pixel = 1,1)')


def _check_added(source: DatasetSource, record: ImageRecord,
                 indices: list[int], ann: PascalAnnotation | None) -> None:
    """Fail unless every listed object is a mask id matching its box."""
    by_id = {inst.mask_id: inst for inst in record.instances}
    mask_rel = _mask_rel(record.file_name)
    for index in indices:
        what = (f'{source.describe(ADDED_LIST)}: {record.file_name} object '
                f'{index}')
        if index not in by_id:
            raise ConversionError(
                f'{what} does not exist: {source.describe(mask_rel)} has '
                f'instance ids {sorted(by_id) or "none"}')
        if ann is None:
            continue
        if index not in ann.boxes:
            raise ConversionError(
                f'{what} does not exist in '
                f'{source.describe(f"{ANN_DIR}/{record.stem}.txt")} '
                f'(objects {sorted(ann.boxes) or "none"})')
        box = ann.box_0based(index)
        best = max(by_id, key=lambda i: (_iou(box, _xyxy(by_id[i])), -i))
        if best != index:
            raise ConversionError(
                f'{what}: its annotated box matches mask instance {best} '
                f'better than instance {index}, so object indices and mask '
                f'ids disagree in {source.describe(mask_rel)}')
        by_id[index].added = True


def _load_image(source: DatasetSource, image_id: int, name: str,
                mask_format: str) -> ImageRecord:
    """Decode an image and its mask, check them and encode the instances."""
    image_rel, mask_rel = f'{IMAGE_DIR}/{name}', _mask_rel(name)
    image = _decode_png(source, image_rel)
    mask_img = _decode_png(source, mask_rel)
    mask = np.asarray(mask_img)
    if mask.ndim != 2 or mask.dtype.kind not in 'biu':
        raise ConversionError(
            f'{source.describe(mask_rel)}: expected a single-channel '
            f'instance-id mask, got a {mask_img.mode} image')
    if mask_img.size != image.size:
        raise ConversionError(
            f'{source.describe(mask_rel)}: mask size '
            f'{mask_img.size[0]}x{mask_img.size[1]} differs from the image '
            f'size {image.size[0]}x{image.size[1]} of '
            f'{source.describe(image_rel)}')
    if mask.dtype == bool:  # a mode '1' mask: a single instance, id 1
        mask = mask.astype(np.uint8)
    instances = [
        Instance(**vars(inst)) for inst in encode_instances(mask, mask_format)
    ]
    return ImageRecord(image_id, name, image.size[0], image.size[1], instances)


def load_pennfudan(source: DatasetSource,
                   mask_format: str = 'rle',
                   skip_empty: bool = False,
                   box_tol: int = 5) -> PennFudan:
    """Read, validate and encode every image of a Penn-Fudan copy.

    Args:
        source: the dataset copy.
        mask_format: ``'rle'`` or ``'polygon'`` segmentations.
        skip_empty: drop images whose mask has no instance (else keep them
            as images without objects). Both warn.
        box_tol: annotation boxes that differ from the mask's tight box by
            more than this many pixels are reported as warnings.

    Returns:
        Records in file-name order (ids are 1-based positions in that order,
        also for skipped images) and the warnings.

    Raises:
        ConversionError: on the first file that cannot be used.
    """
    warnings: list[str] = []
    names = _pair_images_and_masks(source, warnings)
    added = (
        _parse_added_list(source, warnings)
        if source.exists(ADDED_LIST) else None)
    if added is None:
        warnings.append(f'{source.describe(ADDED_LIST)} is missing: no '
                        f'instance is marked as added')
    has_ann_dir = source.is_dir(ANN_DIR)
    if not has_ann_dir:
        warnings.append(f'{source.describe(ANN_DIR)}/ is missing: boxes are '
                        f'not cross-checked')
    unknown = sorted(set(added or ()) - set(names))
    if unknown:
        raise ConversionError(
            f'{source.describe(ADDED_LIST)} lists {unknown[0]}, which is not '
            f'in {source.describe(IMAGE_DIR)}')

    records = []
    for image_id, name in enumerate(names, 1):
        stem = name[:-len('.png')]
        record = _load_image(source, image_id, name, mask_format)
        ann = None
        ann_rel = f'{ANN_DIR}/{stem}.txt'
        if has_ann_dir and source.exists(ann_rel):
            ann = parse_pascal_annotation(
                source.read_bytes(ann_rel).decode('latin-1'))
            _cross_check(source, stem, ann, record.instances, box_tol,
                         warnings)
        elif has_ann_dir:
            warnings.append(f'{source.describe(ann_rel)} is missing: boxes '
                            f'of {name} are not cross-checked')
        if added and name in added:
            _check_added(source, record, added[name], ann)
        if not record.instances:
            action = 'skipping the image' if skip_empty else \
                'keeping it as an image without objects'
            warnings.append(f'{source.describe(_mask_rel(name))} has no '
                            f'instance: {action}')
            if skip_empty:
                continue
        records.append(record)
    instances = [inst for record in records for inst in record.instances]
    for ann_id, inst in enumerate(instances, 1):
        inst.ann_id = ann_id
    return PennFudan(records, warnings)
