"""data_prep/masks_to_coco.py: a user's PNG masks (label images or one PNG per object)
become COCO files whose RLE decodes to the very pixels, split deterministically; every
mistake in the layout is one line."""
import csv
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from data_prep.masks_to_coco import main

H, W = 24, 32


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def write_dataset(data):
    """Three images: a label PNG (an object with a hole beside one it touches), a folder
    of per-object PNGs (overlapping objects), a JPEG without objects. Returns
    (image, instance id) -> (class, binary mask)."""
    yy, xx = np.mgrid[:H, :W]
    ring = ((xx - 8) ** 2 + (yy - 10) ** 2 <= 36) & ((xx - 8) ** 2 + (yy - 10) ** 2 > 4)
    block = (xx >= 14) & (xx < 30) & (yy >= 3) & (yy < 20)
    ring &= ~block  # touching, not overlapping: one label image holds both
    label = np.zeros((H, W), np.uint8)
    label[ring], label[block] = 3, 7
    over_a, over_b = (xx < 20) & (yy < 12), (xx >= 10) & (yy >= 6)
    objects = {('a.png', 3): ('ring', ring), ('a.png', 7): ('box', block),
               ('b.png', 1): ('box', over_a), ('b.png', 2): ('ring', over_b)}
    noise = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    for name in ('a.png', 'b.png', 'c.jpg'):
        _save(data / 'images' / name, noise)
    _save(data / 'masks' / 'a.png', label)
    _save(data / 'masks' / 'b' / '1.png', over_a.astype(np.uint8))
    _save(data / 'masks' / 'b' / '2.png', over_b.astype(np.uint8) * 255)
    _save(data / 'masks' / 'c.png', np.zeros((H, W), np.uint8))
    write_csv(data, [(name, k, kind) for (name, k), (kind, _) in objects.items()])
    return objects


def write_csv(data, rows, header=('image', 'instance_id', 'class')):
    with open(data / 'classes.csv', 'w', newline='') as f:
        csv.writer(f).writerows([header, *rows])


def convert(data, *extra):
    return main([str(data), '--ratios', '0.34', '0.33', '0.33', *map(str, extra)])


@pytest.fixture()
def data(tmp_path):
    folder = tmp_path / 'my_dataset'
    write_dataset(folder)
    return folder


def test_exact_masks_classes_and_splits(data, capsys):
    objects = write_dataset(data.with_name('again'))
    convert(data)
    out = capsys.readouterr().out
    assert "metainfo = dict(classes=('box', 'ring'))" in out
    files = {s: json.loads((data / f'annotations/instances_{s}.json').read_text())
             for s in ('train', 'val', 'test')}
    assert sorted(len(f['images']) for f in files.values()) == [1, 1, 1]
    seen = {}
    for coco in files.values():
        assert coco['categories'] == [{'id': 1, 'name': 'box', 'supercategory': 'box'},
                                      {'id': 2, 'name': 'ring', 'supercategory': 'ring'}]
        images = {img['id']: img for img in coco['images']}
        for img in images.values():
            assert (data / img['file_name']).is_file() and (img['width'], img['height']) == (W, H)
        for ann in coco['annotations']:
            name = images[ann['image_id']]['file_name'].split('/')[-1]
            kind, binary = objects[name, ann['mask_id']]
            decoded = mask_utils.decode(ann['segmentation']).astype(bool)
            np.testing.assert_array_equal(decoded, binary)
            assert ann['area'] == binary.sum() and ann['category_id'] == 1 + (kind == 'ring')
            rows, cols = np.flatnonzero(binary.any(1)), np.flatnonzero(binary.any(0))
            assert ann['bbox'] == [cols[0], rows[0], cols[-1] - cols[0] + 1,
                                   rows[-1] - rows[0] + 1]
            seen[name, ann['mask_id']] = ann['id']
    assert seen.keys() == objects.keys() and sorted(seen.values()) == [1, 2, 3, 4]
    # the same input, the same bytes; --overwrite replaces them
    convert(data.with_name('again'))
    convert(data, '--overwrite')
    for split in files:
        name = f'annotations/instances_{split}.json'
        assert (data / name).read_bytes() == (data.with_name('again') / name).read_bytes()


def _edit(data, what):
    """Make one mistake in a good dataset."""
    rows = list(csv.reader(open(data / 'classes.csv')))[1:]
    if what == 'no csv':
        (data / 'classes.csv').unlink()
    elif what == 'header':
        write_csv(data, rows, header=('file', 'id', 'label'))
    elif what == 'no row':
        write_csv(data, [r for r in rows if r[:2] != ['a.png', '7']])
    elif what == 'extra row':
        write_csv(data, rows + [['a.png', '9', 'box']])
    elif what == 'twice':
        write_csv(data, rows + [rows[0]])
    elif what == 'no mask':
        (data / 'masks' / 'c.png').unlink()
    elif what == 'orphan':
        _save(data / 'masks' / 'd.png', np.zeros((H, W), np.uint8))
    elif what == 'size':
        _save(data / 'masks' / 'a.png', np.zeros((H, W + 1), np.uint8))
    elif what == 'empty object':
        _save(data / 'masks' / 'b' / '2.png', np.zeros((H, W), np.uint8))
    elif what == 'rgb':
        _save(data / 'masks' / 'c.png', np.zeros((H, W, 3), np.uint8))
    elif what == 'exif':
        exif = Image.Exif()
        exif[0x0112] = 6  # shown rotated by 90 degrees
        Image.open(data / 'images' / 'c.jpg').save(data / 'images' / 'c.jpg', exif=exif)
    elif what == 'twin':
        _save(data / 'images' / 'a.jpg', np.zeros((H, W, 3), np.uint8))
    elif what == 'foreign out':
        (data / 'annotations').mkdir()
        (data / 'annotations' / 'mine.json').write_text('{}')


@pytest.mark.parametrize('what, expected', [
    ('no csv', 'classes.csv does not exist: write one row "image,instance_id,class"'),
    ('header', 'the first line must be the header "image,instance_id,class"'),
    ('no row', 'classes.csv has no row for a.png instance 7: add "a.png,7,CLASS"'),
    ('extra row', 'classes.csv lists a.png instance 9, which its masks do not hold'),
    ('twice', 'a.png instance 3 is listed twice'),
    ('no mask', 'images/c.jpg has no mask: add'),
    ('orphan', 'masks/d.png belongs to no image'),
    ('size', 'masks/a.png: mask size 33x24 differs from the image size 32x24'),
    ('empty object', 'masks/b/2.png is empty'),
    ('rgb', 'masks/c.png: expected a single-channel mask'),
    ('exif', 'images/c.jpg has an EXIF rotation: save it and its masks upright'),
    ('twin', 'two images are named a.*, so they would share their masks'),
    ('foreign out', 'holds mine.json, which this tool did not write'),
])
def test_mistakes_are_one_line(data, what, expected, capsys):
    _edit(data, what)
    with pytest.raises(SystemExit) as stop:
        convert(data)
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith('error: ') and expected in err, err
    assert not (data / 'annotations' / 'instances_train.json').exists()


def test_existing_output_and_empty_split(data, capsys):
    convert(data)
    with pytest.raises(SystemExit):
        convert(data)
    assert 'instances_test.json already exists: pass --overwrite' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(data), '--overwrite'])  # 0.8 / 0.1 / 0.1 of three images
    assert 'leave the val split empty for 3 images' in capsys.readouterr().err
