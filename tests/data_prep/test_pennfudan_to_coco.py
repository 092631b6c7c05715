"""Tests of data_prep/pennfudan_to_coco.py on generated and real data."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from data_prep.splits import (largest_remainder, round_table, stratified_kfold,
                              stratified_split)

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = REPO_ROOT.parent / 'shared/data/PennFudanPed'
SPLITS = ('train', 'val', 'test')
FILES = (*SPLITS, 'all')


def load(out: Path, name: str) -> dict:
    path = out / 'annotations' / (f'instances_{name}.json'
                                  if name in FILES else f'folds/{name}.json')
    return json.loads(path.read_text())


def names_of(coco: dict) -> set[str]:
    return {img['file_name'] for img in coco['images']}


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 (or link target) of everything in folder."""
    if not folder.exists():
        return {}
    result = {}
    for path in sorted(folder.rglob('*')):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            result[rel] = 'link:' + os.readlink(path)
        elif path.is_file():
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            result[rel] = 'dir'
    return result


def assert_rle_exact(coco: dict, masks_dir: Path) -> int:
    """Every annotation decodes to exactly its instance's source pixels."""
    images = {img['id']: img for img in coco['images']}
    cache: dict[int, np.ndarray] = {}
    for ann in coco['annotations']:
        img = images[ann['image_id']]
        if img['id'] not in cache:
            stem = Path(img['file_name']).stem
            cache[img['id']] = np.asarray(
                Image.open(masks_dir / f'{stem}_mask.png'))
        expected = cache[img['id']] == ann['mask_id']
        decoded = mask_utils.decode(ann['segmentation']).astype(bool)
        assert np.array_equal(decoded, expected), ann['id']
        ys, xs = np.nonzero(expected)
        assert ann['area'] == expected.sum()
        assert ann['bbox'] == [
            xs.min(),
            ys.min(),
            xs.max() - xs.min() + 1,
            ys.max() - ys.min() + 1
        ]
    # and no instance of the masks is missing
    for image_id, mask in cache.items():
        assert len(np.unique(mask)) - 1 == sum(a['image_id'] == image_id
                                               for a in coco['annotations'])
    return len(coco['annotations'])


def assert_failed(result, *fragments: str) -> None:
    """Exit 1 with one ``error:`` line naming the problem, no traceback."""
    assert result.code == 1, result
    lines = [ln for ln in result.err.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1, result.err
    assert 'Traceback' not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# --------------------------------------------------------------- splitting
def test_largest_remainder():
    assert largest_remainder(170, [.8, .1, .1]) == [136, 17, 17]
    assert largest_remainder(18, [.8, .1, .1]) == [14, 2, 2]
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]


def testround_table_keeps_margins_and_shares():
    rng = np.random.default_rng(0)
    for _ in range(300):
        rows = rng.integers(1, 60, rng.integers(1, 5)).tolist()
        ratios = rng.dirichlet(np.ones(rng.integers(2, 6)))
        cols = largest_remainder(sum(rows), ratios)
        table = np.array(round_table(rows, cols))
        assert table.sum(1).tolist() == rows
        assert table.sum(0).tolist() == cols
        share = np.outer(rows, cols) / sum(rows)
        assert np.all(np.abs(table - share) < 1)


def test_split_170_is_exact_stratified_and_order_free():
    names = [f'FudanPed{i:05d}.png' for i in range(1, 75)] + \
        [f'PennPed{i:05d}.png' for i in range(1, 97)]
    source = (lambda n: n[:-9])
    splits = stratified_split(names, [.8, .1, .1], 0, source)
    assert [len(splits[s]) for s in SPLITS] == [136, 17, 17]
    for members in splits.values():
        assert {source(n) for n in members} == {'FudanPed', 'PennPed'}
    assert stratified_split(names[::-1], [.8, .1, .1], 0, source) == splits
    assert stratified_split(names, [.8, .1, .1], 1, source) != splits
    folds = stratified_kfold(splits['train'] + splits['val'], 5, 0, source)
    assert sorted(map(len, folds)) == [30, 30, 31, 31, 31]


# ------------------------------------------------------- tiny dataset runs
def test_tiny_conversion(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    result = cli('--src', tiny, '--out', out)
    assert result.code == 0, result.err
    link = out / 'PNGImages'
    assert link.is_symlink() and Path(os.readlink(link)).is_absolute()
    assert link.resolve() == (tiny / 'PNGImages').resolve()
    cocos = {name: load(out, name) for name in FILES}
    all_coco = cocos['all']
    assert [img['id'] for img in all_coco['images']] == list(range(1, 19))
    assert [img['file_name'] for img in all_coco['images']
            ] == sorted(f'PNGImages/{p.name}'
                        for p in (tiny / 'PNGImages').iterdir())
    assert all_coco['categories'] == [{
        'id': 1,
        'name': 'pedestrian',
        'supercategory': 'person'
    }]
    for img in all_coco['images']:
        assert (img['width'], img['height']) == (32, 48)
        assert (out / img['file_name']).is_file()
    assert assert_rle_exact(all_coco, tiny / 'PedMasks') == 36
    assert [len(cocos[s]['images']) for s in SPLITS] == [14, 2, 2]
    assert set().union(*(names_of(cocos[s]) for s in SPLITS)) == \
        names_of(all_coco)
    for split in SPLITS:
        coco = cocos[split]
        assert {Path(n).name[:4] for n in names_of(coco)} == {'Fuda', 'Penn'}
        info = coco['info']
        assert info['split'] == split and info['seed'] == 0
        assert info['ratios'] == [.8, .1, .1]
        assert {
            s: set(v)
            for s, v in info['splits'].items()
        } == {
            s: names_of(cocos[s])
            for s in SPLITS
        }
        # ids are global: the same image / instance has the same id
        by_id = {a['id']: a for a in all_coco['annotations']}
        for ann in coco['annotations']:
            assert by_id[ann['id']] == ann
        assert len(COCO(out / f'annotations/instances_{split}.json').imgs) \
            == len(coco['images'])
    assert 'box' not in result.err
    assert 'train  all' in result.out


def test_same_inputs_same_bytes_and_seed(tiny, tmp_path, cli):
    outs = [tmp_path / name for name in ('a', 'b', 'c')]
    for out, seed in zip(outs, (7, 7, 8)):
        assert cli('--src', tiny, '--out', out, '--seed', seed, '--folds',
                   3).code == 0
    snaps = [snapshot(out / 'annotations') for out in outs]
    assert snaps[0] == snaps[1]
    assert load(outs[0], 'train')['images'] != load(outs[2], 'train')['images']


def test_folds(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--folds', 4).code == 0
    test = names_of(load(out, 'test'))
    pool = names_of(load(out, 'train')) | names_of(load(out, 'val'))
    vals = []
    for k in range(4):
        train, val = load(out, f'fold{k}_train'), load(out, f'fold{k}_val')
        assert names_of(train) | names_of(val) == pool
        assert not names_of(train) & names_of(val)
        assert not (names_of(train) | names_of(val)) & test
        assert val['info']['fold'] == k and val['info']['num_folds'] == 4
        assert set(val['info']['folds'][k]) == names_of(val)
        vals.append(names_of(val))
    assert set().union(*vals) == pool and sum(map(len, vals)) == len(pool)
    # A rerun with fewer folds removes the folds it no longer writes.
    assert cli('--src', tiny, '--out', out, '--folds', 2,
               '--overwrite').code == 0
    assert sorted(p.name for p in (out / 'annotations/folds').iterdir()) == [
        'fold0_train.json', 'fold0_val.json', 'fold1_train.json',
        'fold1_val.json'
    ]


@pytest.mark.parametrize('mode', ['keep', 'ignore'])
def test_added_modes(tiny, tmp_path, mode, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--added', mode).code == 0
    anns = load(out, 'all')['annotations']
    added = [a for a in anns if a['added']]
    assert len(added) == 12  # images with 2 or 3 pedestrians: last one
    crowd = [a for a in anns if a['iscrowd']]
    assert crowd == (added if mode == 'ignore' else [])


def test_added_list_missing(tiny, tmp_path, cli):
    (tiny / 'added-object-list.txt').unlink()
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0 and 'added-object-list.txt is missing' in \
        result.err
    assert not any(a['added']
                   for a in load(tmp_path / 'a', 'all')['annotations'])
    assert_failed(
        cli('--src', tiny, '--out', tmp_path / 'b', '--added', 'ignore'),
        '--added ignore needs', 'added-object-list.txt, which is missing')


def test_added_object_must_exist(tiny, tmp_path, cli):
    with open(tiny / 'added-object-list.txt', 'a') as f:
        f.write('FudanPed00001.png\t3\n')  # FudanPed00001 has 1 pedestrian
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert_failed(result, 'added-object-list.txt', 'FudanPed00001.png',
                  'object 3 does not exist')
    assert not (tmp_path / 'out').exists()


def test_added_object_must_be_annotated(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'  # object 2 is listed
    text = path.read_text()
    path.write_text(text[:text.index('# Details for pedestrian 2')])
    assert_failed(
        cli('--src', tiny, '--out',
            tmp_path / 'out'), 'PennPed00003.png object 2 does not exist in',
        'PennPed00003.txt (objects [1])')


def test_added_object_must_match_its_annotation_box(tiny, tmp_path, cli):
    # Swap objects 1 and 2 in an annotation: index 2 now means mask id 1.
    path = tiny / 'Annotation/FudanPed00002.txt'
    text = path.read_text().replace('object 1 ', 'object X ')
    text = text.replace('object 2 ',
                        'object 1 ').replace('object X ', 'object 2 ')
    path.write_text(text)
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert_failed(result, 'FudanPed00002.png object 2',
                  'matches mask instance 1')


def test_box_disagreement_is_a_warning(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'
    lines = path.read_text().splitlines()
    i = next(i for i, ln in enumerate(lines) if 'Bounding box' in ln)
    head, _, tail = lines[i].rpartition('(')
    x2, y2 = map(int, tail.rstrip(')').split(','))
    lines[i] = f'{head}({x2 + 7}, {y2})'
    path.write_text('\n'.join(lines) + '\n')
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0
    warnings = [ln for ln in result.err.splitlines() if 'differs by' in ln]
    assert len(warnings) == 1
    assert 'PennPed00003.txt: object 1' in warnings[0]
    assert 'by 7 px' in warnings[0]
    result = cli('--src', tiny, '--out', tmp_path / 'b', '--box-tol', 7)
    assert result.code == 0 and 'differs by' not in result.err


def test_annotation_count_mismatch_is_a_warning(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'  # 2 pedestrians
    text = path.read_text()
    path.write_text(text[:text.index('# Details for pedestrian 2')])
    # Object 2 is an added one, which must be in the annotation (see below).
    added = tiny / 'added-object-list.txt'
    added.write_text(added.read_text().replace('PennPed00003.png\t2\n', ''))
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert result.code == 0, result.err
    assert 'PennPed00003.txt: declares 2 objects but has 1' in result.err
    assert 'the mask has 2 instances' in result.err


def test_empty_mask_is_kept_or_skipped(tiny, tmp_path, cli):
    Image.fromarray(np.zeros((48, 32), np.uint8)).save(
        tiny / 'PedMasks/FudanPed00004_mask.png')  # had 1 pedestrian
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0
    assert 'FudanPed00004_mask.png has no instance: keeping' in result.err
    coco = load(tmp_path / 'a', 'all')
    assert len(coco['images']) == 18 and len(coco['annotations']) == 35
    result = cli('--src', tiny, '--out', tmp_path / 'b', '--skip-empty')
    assert result.code == 0 and 'skipping the image' in result.err
    coco = load(tmp_path / 'b', 'all')
    assert len(coco['images']) == 17
    assert 'PNGImages/FudanPed00004.png' not in names_of(coco)


def test_non_png_files_are_ignored(tiny, tmp_path, cli):
    (tiny / 'PNGImages/Thumbs.db').write_bytes(b'\0' * 10)
    (tiny / 'PedMasks/notes.txt').write_text('hi')
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert result.code == 0
    assert 'Thumbs.db (not a .png file)' in result.err
    assert 'notes.txt (not a .png file)' in result.err
    assert len(load(tmp_path / 'out', 'all')['images']) == 18


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


BAD_INPUTS = {
    'src missing': (lambda d: d / 'nope', ['nope', 'no such file']),
    'not pennfudan': (lambda d: d / 'PedMasks',
                      ['is not a Penn-Fudan dataset', 'no PNGImages/']),
    'image without mask': (lambda d:
                           (d / 'PedMasks/PennPed00005_mask.png').unlink(), [
                               'PNGImages/PennPed00005.png has no mask',
                               'PedMasks/PennPed00005_mask.png is missing'
                           ]),
    'mask without image':
    (lambda d: (d / 'PNGImages/FudanPed00002.png').unlink(),
     ['PedMasks/FudanPed00002_mask.png has no image']),
    'mask size':
    (lambda d: Image.new('L',
                         (33, 48)).save(d / 'PedMasks/FudanPed00003_mask.png'),
     [
         'FudanPed00003_mask.png: mask size 33x48 differs from the image '
         'size 32x48'
     ]),
    'truncated image': (lambda d: _truncate(d / 'PNGImages/PennPed00007.png'),
                        ['PennPed00007.png: corrupt or truncated PNG']),
    'corrupt mask': (lambda d: (d / 'PedMasks/PennPed00008_mask.png').
                     write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 4),
                     ['PennPed00008_mask.png: corrupt or truncated PNG']),
    'jpeg named png': (lambda d: Image.new('RGB', (32, 48)).save(
        d / 'PNGImages/FudanPed00001.png', format='JPEG'),
                       ['FudanPed00001.png: not a PNG file (it is JPEG data)'
                        ]),
    'rgb mask':
    (lambda d: Image.new('RGB',
                         (32, 48)).save(d / 'PedMasks/FudanPed00001_mask.png'),
     ['FudanPed00001_mask.png: expected a single-channel']),
}


@pytest.mark.parametrize('case', list(BAD_INPUTS))
def test_bad_input(tiny, tmp_path, cli, case):
    break_it, fragments = BAD_INPUTS[case]
    src = break_it(tiny)
    src = src if isinstance(src, Path) else tiny
    out = tmp_path / 'out'
    assert_failed(cli('--src', src, '--out', out), *fragments)
    assert not out.exists()


def test_output_inside_the_dataset_is_refused(tiny, cli):
    assert_failed(
        cli('--src', tiny, '--out', tiny / 'coco'),
        'is inside the dataset folder')
    assert not (tiny / 'coco').exists()


def test_bad_ratios_are_usage_errors(tiny, tmp_path, cli):
    for ratios in (['0.8', '0.1',
                    '0.2'], ['1.2', '-0.1',
                             '-0.1'], ['0.5', '0.5',
                                       '0'], ['nan', '0.5', '0.5']):
        result = cli('--src', tiny, '--out', tmp_path, '--ratios', *ratios)
        assert result.code == 2 and '--ratios needs three positive' in \
            result.err
    result = cli('--src', tiny, '--out', tmp_path, '--ratios', '0.8', '0.2')
    assert result.code == 2


def test_existing_output_needs_overwrite(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out).code == 0
    before = snapshot(out)
    assert_failed(
        cli('--src', tiny, '--out', out, '--seed', 3),
        'instances_train.json already exists', '--overwrite')
    assert snapshot(out) == before
    assert cli('--src', tiny, '--out', out, '--seed', 3,
               '--overwrite').code == 0
    assert snapshot(out) != before


def test_failed_overwrite_leaves_output_untouched(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--folds', 2).code == 0
    before = snapshot(out)
    _truncate(tiny / 'PedMasks/PennPed00010_mask.png')
    assert_failed(
        cli('--src', tiny, '--out', out, '--overwrite'),
        'PennPed00010_mask.png: corrupt or truncated PNG')
    assert snapshot(out) == before  # no temp files, nothing replaced


def test_images_link_pointing_elsewhere(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'PNGImages').symlink_to(tmp_path)
    assert_failed(
        cli('--src', tiny, '--out', out),
        f'{out / "PNGImages"} already exists and links to '
        f'{tmp_path}', '--overwrite')
    assert not (out / 'annotations').exists()
    assert cli('--src', tiny, '--out', out, '--overwrite').code == 0
    assert (out / 'PNGImages').resolve() == (tiny / 'PNGImages').resolve()
    assert tmp_path.is_dir()  # only the link was replaced


def test_zip_source_matches_folder(tiny, tmp_path, cli, zipper):
    archive = zipper(tiny, tmp_path / 'PennFudanPed.zip')
    assert cli('--src', tiny, '--out', tmp_path / 'f').code == 0
    out = tmp_path / 'z'
    assert cli('--src', archive, '--out', out).code == 0
    assert snapshot(tmp_path / 'f/annotations') == snapshot(out /
                                                            'annotations')
    images = out / 'PNGImages'
    assert images.is_dir() and not images.is_symlink()
    assert snapshot(images) == snapshot(tiny / 'PNGImages')
    # Rerun: identical extracted images are kept; others need --overwrite.
    assert cli('--src', archive, '--out', out, '--overwrite').code == 0
    (images / 'FudanPed00001.png').write_bytes(b'changed')
    result = cli('--src', archive, '--out', tmp_path / 'z2')
    assert result.code == 0
    (tmp_path / 'z2/annotations').rename(tmp_path / 'gone')
    (tmp_path / 'z2/PNGImages/extra.png').write_bytes(b'x')
    assert_failed(
        cli('--src', archive, '--out', tmp_path / 'z2'),
        'PNGImages already exists and holds other files')
    assert cli('--src', archive, '--out', tmp_path / 'z2',
               '--overwrite').code == 0
    assert not (tmp_path / 'z2/PNGImages/extra.png').exists()


def test_corrupt_zip(tiny, tmp_path, cli, zipper):
    archive = zipper(tiny, tmp_path / 'PennFudanPed.zip')
    _truncate(archive)
    assert_failed(
        cli('--src', archive, '--out', tmp_path / 'out'),
        f'{archive}: corrupt or truncated zip archive')
    not_zip = tmp_path / 'notes.txt'
    not_zip.write_text('hello')
    assert_failed(
        cli('--src', not_zip, '--out', tmp_path / 'out'),
        'neither a folder nor a zip archive')
    assert not (tmp_path / 'out').exists()


def test_polygon_masks(tiny, tmp_path, cli):
    pytest.importorskip('cv2')
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--mask-format',
               'polygon').code == 0
    coco = COCO(out / 'annotations/instances_all.json')
    rle = load(tmp_path / 'out', 'all')
    for ann in coco.dataset['annotations']:
        assert isinstance(ann['segmentation'], list)
        img = coco.imgs[ann['image_id']]
        mask = np.asarray(
            Image.open(tiny / 'PedMasks' /
                       f'{Path(img["file_name"]).stem}_mask.png'))
        gt = mask == ann['mask_id']
        poly = coco.annToMask(ann).astype(bool)
        assert (poly & gt).sum() / (poly | gt).sum() > 0.6
    assert len(rle['annotations']) == len(coco.dataset['annotations'])


# ------------------------------------------------------------- downloading
def test_download_and_resume(tiny, tmp_path, http_server, cli, zipper):
    payload = zipper(tiny, tmp_path / 'src.zip').read_bytes()
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'PennFudanPed.zip.part').write_bytes(payload[:len(payload) // 3])
    url = http_server(payload, 'range')
    result = cli('--download', '--url', url, '--cache-dir', cache, '--out',
                 tmp_path / 'out')
    assert result.code == 0, result.err
    assert http_server.server.requests == [f'bytes={len(payload) // 3}-']
    assert (cache / 'PennFudanPed.zip').read_bytes() == payload
    assert not (cache / 'PennFudanPed.zip.part').exists()
    assert len(load(tmp_path / 'out', 'all')['images']) == 18
    # A second run uses the cached zip without asking the server.
    assert cli('--download', '--url', url, '--cache-dir', cache, '--out',
               tmp_path / 'out2').code == 0
    assert len(http_server.server.requests) == 1


def test_download_part_already_complete(tiny, tmp_path, http_server, zipper):
    payload = zipper(tiny, tmp_path / 'src.zip').read_bytes()
    (tmp_path / 'PennFudanPed.zip.part').write_bytes(payload)
    url = http_server(payload, 'range')  # answers 416
    from data_prep.download import download
    path = download(url, tmp_path / 'PennFudanPed.zip', progress=False)
    assert path.read_bytes() == payload


def test_download_server_without_range(tiny, tmp_path, http_server, zipper):
    payload = zipper(tiny, tmp_path / 'src.zip').read_bytes()
    (tmp_path / 'PennFudanPed.zip.part').write_bytes(b'stale bytes')
    url = http_server(payload, 'norange')
    from data_prep.download import download
    path = download(url, tmp_path / 'PennFudanPed.zip', progress=False)
    assert path.read_bytes() == payload


def test_download_interrupted_then_resumed(tiny, tmp_path, http_server, cli,
                                           zipper):
    payload = zipper(tiny, tmp_path / 'src.zip').read_bytes()
    url = http_server(payload, 'truncate')
    args = ('--download', '--url', url, '--cache-dir', tmp_path / 'cache',
            '--out', tmp_path / 'out')
    assert_failed(cli(*args), 'interrupted', 'next run with --download')
    part = tmp_path / 'cache/PennFudanPed.zip.part'
    assert 0 < part.stat().st_size < len(payload)
    assert not (tmp_path / 'out').exists()
    http_server.server.mode = 'range'
    assert cli(*args).code == 0
    assert (tmp_path / 'cache/PennFudanPed.zip').read_bytes() == payload


def test_download_not_a_zip(tmp_path, http_server, cli):
    url = http_server(b'<html>moved</html>', 'range')
    assert_failed(
        cli('--download', '--url', url, '--cache-dir', tmp_path, '--out',
            tmp_path / 'out'), 'did not return a zip')
    assert list(tmp_path.iterdir()) == []


def test_download_offline(tmp_path, closed_port_url, cli):
    result = cli('--download', '--url', closed_port_url, '--cache-dir',
                 tmp_path / 'cache', '--out', tmp_path / 'out')
    assert_failed(result, f'cannot download {closed_port_url}',
                  'Connection refused', '--src PennFudanPed.zip')
    assert not (tmp_path / 'out').exists()


# ------------------------------------------------------------ entry points
@pytest.mark.parametrize('entry', [['data_prep/pennfudan_to_coco.py'],
                                   ['-m', 'data_prep.pennfudan_to_coco']])
def test_command_line_entry_points(tiny, tmp_path, entry):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    run = subprocess.run([
        sys.executable, *entry, '--src',
        str(tiny), '--out',
        str(tmp_path / 'out')
    ],
                         cwd=REPO_ROOT,
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / 'out/annotations/instances_all.json').is_file()
    run = subprocess.run([
        sys.executable, *entry, '--src',
        str(tiny / 'PedMasks'), '--out',
        str(tmp_path / 'out2')
    ],
                         cwd=REPO_ROOT,
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert run.returncode == 1 and 'Traceback' not in run.stderr
    assert run.stderr.startswith('error: ') and \
        run.stderr.count('\n') == 1, run.stderr


# ----------------------------------------------------------- real dataset
needs_real = pytest.mark.skipif(
    not (REAL_DATA / 'PNGImages').is_dir(),
    reason=f'Penn-Fudan dataset not found at {REAL_DATA}')


@pytest.fixture(scope='module')
def real(tmp_path_factory, cli):
    """Convert the real dataset once per mode (keep with folds, ignore)."""
    if not (REAL_DATA / 'PNGImages').is_dir():
        pytest.skip(f'Penn-Fudan dataset not found at {REAL_DATA}')
    base = tmp_path_factory.mktemp('real')
    runs = {}
    for name, extra in (('keep', ['--folds',
                                  '5']), ('keep_again', ['--folds', '5']),
                        ('ignore', ['--added', 'ignore'])):
        added = 'ignore' if name == 'ignore' else 'keep'
        result = cli('--src', REAL_DATA, '--out', base / name, '--added',
                     added, *extra)
        assert result.code == 0, result.err
        runs[name] = (base / name, result)
    return runs


@needs_real
def test_real_splits(real):
    out, result = real['keep']
    cocos = {name: load(out, name) for name in FILES}
    assert [len(cocos[s]['images']) for s in SPLITS] == [136, 17, 17]
    split_names = [names_of(cocos[s]) for s in SPLITS]
    assert sum(map(len, split_names)) == 170
    assert set().union(*split_names) == names_of(cocos['all'])
    for names in split_names:
        assert Counter(Path(n).name[:4]
                       for n in names).keys() == {'Fuda', 'Penn'}
    for name in FILES:
        coco = COCO(out / f'annotations/instances_{name}.json')
        assert len(coco.imgs) == len(cocos[name]['images'])
        for img in coco.imgs.values():
            assert (out / img['file_name']).is_file()
    print(result.out)


@needs_real
def test_real_instances_and_rle(real):
    out, _ = real['keep']
    coco = load(out, 'all')
    assert len(coco['annotations']) == 423
    assert not any(a['iscrowd'] for a in coco['annotations'])
    assert sum(a['added'] for a in coco['annotations']) == 78
    assert assert_rle_exact(coco, REAL_DATA / 'PedMasks') == 423
    ignore = load(real['ignore'][0], 'all')['annotations']
    assert Counter(a['iscrowd'] for a in ignore) == {0: 345, 1: 78}
    assert all(a['iscrowd'] == a['added'] for a in ignore)
    assert sum(len(load(out, s)['annotations']) for s in SPLITS) == 423


@needs_real
def test_real_is_deterministic(real):
    assert snapshot(real['keep'][0] / 'annotations') == snapshot(
        real['keep_again'][0] / 'annotations')


@needs_real
def test_real_folds(real):
    out, _ = real['keep']
    test = names_of(load(out, 'test'))
    pool = names_of(load(out, 'train')) | names_of(load(out, 'val'))
    assert len(pool) == 153
    vals = [names_of(load(out, f'fold{k}_val')) for k in range(5)]
    assert sum(map(len, vals)) == 153 and set().union(*vals) == pool
    for k in range(5):
        train = names_of(load(out, f'fold{k}_train'))
        assert train == pool - vals[k] and not (train | vals[k]) & test


@needs_real
def test_real_box_cross_check(real):
    _, result = real['keep']
    warnings = [
        ln for ln in result.err.splitlines() if ln.startswith('warning:')
    ]
    assert len(warnings) == 1 and 'PennPed00027.txt: object 1' in warnings[0]


@needs_real
def test_mmdet_coco_dataset_loads_train(real):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoDataset

    out, _ = real['keep']
    dataset = CocoDataset(
        metainfo=dict(classes=('pedestrian', )),
        data_root=str(out),
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=[])
    assert len(dataset) == 136
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert sum(len(info['instances'])
               for info in infos) == len(load(out, 'train')['annotations'])
    assert all(Path(info['img_path']).is_file() for info in infos)
