"""The custom config, a tiny run of it, and a synthetic two-class dataset in the layout
of docs/custom_dataset.md: two classes of shapes on a noisy background, masks as PNGs."""
import csv
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import ROOT, TINY_OPTIONS

CUSTOM_CONFIG = str(ROOT / 'configs' / 'custom' / 'deit-tiny_mrcnn_custom-coco_cpu.py')
CLASSES = ('cat', 'dog')  # the example classes of the custom config
SHAPES = {'cat': 'disc', 'dog': 'square'}  # how each class is drawn
# the tiny run of tests/helpers.py (with TINY_SIZE) on every image, one epoch
OPTIONS = [o for o in TINY_OPTIONS if '.indices=' not in o] + ['train_cfg.max_epochs=1']


def _shape(kind: str, h: int, w: int, cx: int, cy: int, r: int) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    if SHAPES[kind] == 'disc':
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    return (abs(xx - cx) <= r) & (abs(yy - cy) <= r)


def write_shapes(data: Path, n_images: int = 12, seed: int = 0) -> dict:
    """``data/images``, ``data/masks`` and ``data/classes.csv``: label PNGs for most
    images, a folder of per-object binary PNGs for every third, a JPEG every fourth.
    Returns (image name, instance id) -> (class, binary mask)."""
    rng = np.random.default_rng(seed)
    (data / 'images').mkdir(parents=True)
    (data / 'masks').mkdir()
    objects = {}
    for i in range(n_images):
        h, w = (int(v) for v in rng.choice([128, 160, 192], 2))
        image = rng.integers(40, 120, (h, w, 3), dtype=np.uint8)
        label = np.zeros((h, w), np.uint8)
        name = f'shapes_{i:02d}.' + ('jpg' if i % 4 == 3 else 'png')
        kinds = [CLASSES[i % 2], *rng.choice(CLASSES, int(rng.integers(0, 3)))]
        for k, kind in enumerate(kinds, 1):
            r = int(rng.integers(14, 26))
            # one column of the image per object: objects never touch
            cx = int((k - 0.5) * w / len(kinds)) + int(rng.integers(-3, 4))
            cy = int(rng.integers(r + 1, h - r - 1))
            binary = _shape(str(kind), h, w, cx, cy, min(r, w // (2 * len(kinds)) - 2))
            label[binary] = k
            image[binary] = rng.integers(150, 255, 3, dtype=np.uint8)
            objects[name, k] = (str(kind), binary)
        Image.fromarray(image).save(data / 'images' / name)
        stem = Path(name).stem
        if i % 3 == 2:
            (data / 'masks' / stem).mkdir()
            for k in range(1, len(kinds) + 1):
                Image.fromarray((label == k).astype(np.uint8) * 255).save(
                    data / 'masks' / stem / f'{k}.png')
        else:
            Image.fromarray(label).save(data / 'masks' / f'{stem}.png')
    with open(data / 'classes.csv', 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['image', 'instance_id', 'class'])
        writer.writerows((name, k, kind) for (name, k), (kind, _) in objects.items())
    return objects
