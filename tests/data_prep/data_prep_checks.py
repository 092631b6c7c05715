"""Checks shared by the converter tests: read outputs, compare folders, exact RLE."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLITS = ('train', 'val', 'test')
FILES = (*SPLITS, 'all')


def load(out: Path, name: str) -> dict:
    rel = f'instances_{name}.json' if name in FILES else f'folds/{name}.json'
    return json.loads((out / 'annotations' / rel).read_text())


def names_of(coco: dict) -> set[str]:
    return {img['file_name'] for img in coco['images']}


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 (or link target) of everything in ``folder``."""
    result = {}
    for path in sorted(folder.rglob('*')) if folder.exists() else []:
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            result[rel] = 'link:' + os.readlink(path)
        elif path.is_file():
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            result[rel] = 'dir'
    return result


def leftovers(out: Path) -> list[str]:
    """Temporary folders the converter left beside ``out``."""
    return [p.name for p in out.parent.iterdir() if p.name.startswith(f'.{out.name}.')]


def assert_rle_exact(coco: dict, masks_dir: Path) -> int:
    """Every annotation decodes to exactly its instance's pixels; none is missing."""
    images = {img['id']: img for img in coco['images']}
    masks = {}
    for ann in coco['annotations']:
        if ann['image_id'] not in masks:
            stem = Path(images[ann['image_id']]['file_name']).stem
            masks[ann['image_id']] = np.asarray(Image.open(masks_dir / f'{stem}_mask.png'))
        expected = masks[ann['image_id']] == ann['mask_id']
        assert np.array_equal(mask_utils.decode(ann['segmentation']).astype(bool), expected)
        ys, xs = np.nonzero(expected)
        assert ann['area'] == expected.sum()
        assert ann['bbox'] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                               ys.max() - ys.min() + 1]
    for image_id, mask in masks.items():
        assert len(np.unique(mask)) - 1 == sum(a['image_id'] == image_id
                                               for a in coco['annotations'])
    return len(coco['annotations'])


def assert_failed(result, *fragments: str) -> None:
    """Exit status 2 with one ``error:`` line naming the problem, no traceback."""
    assert result.code == 2, result
    assert 'Traceback' not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith('error:')]
    assert len(errors) == 1, result.err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
