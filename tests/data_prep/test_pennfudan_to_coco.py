"""The converter on tiny generated datasets: outputs, checks, errors, output replacement."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from data_prep_checks import (FILES, REPO_ROOT, SPLITS, assert_failed, assert_rle_exact,
                              leftovers, load, names_of, snapshot)


# ----------------------------------------------------------------------- outputs
def test_tiny_conversion(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    result = cli('--src', tiny, '--out', out)
    assert result.code == 0, result.err
    assert f'dataset: {tiny} (from --src)' in result.err
    link = out / 'PNGImages'
    assert link.is_symlink() and Path(os.readlink(link)).is_absolute()
    assert link.resolve() == (tiny / 'PNGImages').resolve()
    cocos = {name: load(out, name) for name in FILES}
    everything = cocos['all']
    assert [img['id'] for img in everything['images']] == list(range(1, 19))
    assert [img['file_name'] for img in everything['images']] == sorted(
        f'PNGImages/{p.name}' for p in (tiny / 'PNGImages').iterdir())
    assert everything['categories'] == [{'id': 1, 'name': 'pedestrian',
                                         'supercategory': 'person'}]
    for img in everything['images']:
        assert (img['width'], img['height']) == (32, 48)
        assert (out / img['file_name']).is_file()
    assert assert_rle_exact(everything, tiny / 'PedMasks') == 36
    assert [len(cocos[s]['images']) for s in SPLITS] == [14, 2, 2]
    assert set().union(*(names_of(cocos[s]) for s in SPLITS)) == names_of(everything)
    by_id = {a['id']: a for a in everything['annotations']}
    for split in SPLITS:
        coco = cocos[split]
        assert {Path(n).name[:4] for n in names_of(coco)} == {'Fuda', 'Penn'}  # stratified
        info = coco['info']
        assert info['split'] == split and info['seed'] == 0 and info['ratios'] == [.8, .1, .1]
        assert {s: set(v) for s, v in info['splits'].items()} == {
            s: names_of(cocos[s]) for s in SPLITS}
        assert all(by_id[a['id']] == a for a in coco['annotations'])  # global ids
        assert len(COCO(out / f'annotations/instances_{split}.json').imgs) == len(coco['images'])
    assert 'warning' not in result.err
    assert 'train  all' in result.out
    assert leftovers(out) == []


def test_same_inputs_same_bytes_and_seed(tiny, tmp_path, cli):
    outs = [tmp_path / name for name in 'abc']
    for out, seed in zip(outs, (7, 7, 8)):
        assert cli('--src', tiny, '--out', out, '--seed', seed, '--folds', 3).code == 0
    assert snapshot(outs[0] / 'annotations') == snapshot(outs[1] / 'annotations')
    assert load(outs[0], 'train')['images'] != load(outs[2], 'train')['images']


def test_folds_and_removed_fold_files(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--folds', 4).code == 0
    test = names_of(load(out, 'test'))
    pool = names_of(load(out, 'train')) | names_of(load(out, 'val'))
    vals = []
    for k in range(4):
        train, val = load(out, f'fold{k}_train'), load(out, f'fold{k}_val')
        assert names_of(train) | names_of(val) == pool
        assert not names_of(train) & names_of(val) and not names_of(train) & test
        assert val['info']['fold'] == k and val['info']['num_folds'] == 4
        assert set(val['info']['folds'][k]) == names_of(val)
        vals.append(names_of(val))
    assert set().union(*vals) == pool and sum(map(len, vals)) == len(pool)
    result = cli('--src', tiny, '--out', out, '--folds', 2, '--overwrite')
    assert result.code == 0
    assert sorted(p.name for p in (out / 'annotations/folds').iterdir()) == [
        'fold0_train.json', 'fold0_val.json', 'fold1_train.json', 'fold1_val.json']
    assert 'removed 4 fold files of the previous output: annotations/folds/fold2_train.json' \
        in result.out
    result = cli('--src', tiny, '--out', out, '--overwrite')  # no --folds: all of them go
    assert result.code == 0 and not (out / 'annotations/folds').exists()
    lines = [line for line in result.out.splitlines() if line.startswith('removed')]
    assert lines == ['removed 4 fold files of the previous output: '
                     + ' '.join(f'annotations/folds/fold{k}_{p}.json'
                                for k in range(2) for p in ('train', 'val'))]


@pytest.mark.parametrize('mode', ['keep', 'ignore'])
def test_added_modes(tiny, tmp_path, mode, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--added', mode).code == 0
    anns = load(out, 'all')['annotations']
    added = [a for a in anns if a['added']]
    assert len(added) == 12  # the last pedestrian of images with 2 or 3
    assert [a for a in anns if a['iscrowd']] == (added if mode == 'ignore' else [])


def test_polygon_masks(tiny, tmp_path, cli):
    pytest.importorskip('cv2')
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--mask-format', 'polygon').code == 0
    coco = COCO(out / 'annotations/instances_all.json')
    assert len(coco.dataset['annotations']) == 36
    for ann in coco.dataset['annotations']:
        assert isinstance(ann['segmentation'], list)
        stem = Path(coco.imgs[ann['image_id']]['file_name']).stem
        gt = np.asarray(Image.open(tiny / 'PedMasks' / f'{stem}_mask.png')) == ann['mask_id']
        poly = coco.annToMask(ann).astype(bool)
        assert (poly & gt).sum() / (poly | gt).sum() > 0.6


def test_zip_source_matches_folder(tiny, tiny_zip, tmp_path, cli):
    assert cli('--src', tiny, '--out', tmp_path / 'f').code == 0
    out = tmp_path / 'z'
    assert cli('--src', tiny_zip, '--out', out).code == 0
    assert snapshot(tmp_path / 'f/annotations') == snapshot(out / 'annotations')
    images = out / 'PNGImages'
    assert images.is_dir() and not images.is_symlink()
    assert snapshot(images) == snapshot(tiny / 'PNGImages')
    # A zip without folder entries, and without the top folder, reads the same.
    flat = tmp_path / 'flat.zip'
    with zipfile.ZipFile(tiny_zip) as src, zipfile.ZipFile(flat, 'w') as dst:
        for info in src.infolist():
            if not info.is_dir():
                dst.writestr(info.filename.split('/', 1)[1], src.read(info))
    assert cli('--src', flat, '--out', tmp_path / 'flat').code == 0
    assert snapshot(tmp_path / 'flat/annotations') == snapshot(out / 'annotations')


# ----------------------------------------------------------- cross-checks, warnings
def test_added_list_missing(tiny, tmp_path, cli):
    (tiny / 'added-object-list.txt').unlink()
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0 and 'added-object-list.txt is missing' in result.err
    assert not any(a['added'] for a in load(tmp_path / 'a', 'all')['annotations'])
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'b', '--added', 'ignore'),
                  '--added ignore needs', 'added-object-list.txt, which is missing')


def test_added_object_must_exist(tiny, tmp_path, cli):
    with open(tiny / 'added-object-list.txt', 'a') as f:
        f.write('FudanPed00001.png\t3\n')  # FudanPed00001 has 1 pedestrian
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'out'), 'added-object-list.txt',
                  'FudanPed00001.png object 3 does not exist')
    assert not (tmp_path / 'out').exists()


def test_added_object_must_be_annotated(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'  # its object 2 is listed
    path.write_text(path.read_text().split('# Details for pedestrian 2')[0])
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'out'),
                  'PennPed00003.png object 2 does not exist in', 'PennPed00003.txt (objects [1])')


def test_added_object_must_match_its_annotation_box(tiny, tmp_path, cli):
    path = tiny / 'Annotation/FudanPed00002.txt'  # swap objects 1 and 2
    text = path.read_text().replace('object 1 ', 'object X ').replace('object 2 ', 'object 1 ')
    path.write_text(text.replace('object X ', 'object 2 '))
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'out'), 'FudanPed00002.png object 2',
                  'matches mask instance 1')


def test_missing_annotation_file_is_a_warning(tiny, tmp_path, cli):
    (tiny / 'Annotation/PennPed00003.txt').unlink()  # its object 2 is listed as added
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert result.code == 0
    assert 'PennPed00003.txt is missing: boxes of PennPed00003.png are not' in result.err
    assert sum(a['added'] for a in load(tmp_path / 'out', 'all')['annotations']) == 12


def test_added_list_bad_line(tiny, tmp_path, cli):
    with open(tiny / 'added-object-list.txt', 'a') as f:
        f.write('PennPed00001.png first\n')
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'out'), 'added-object-list.txt line',
                  "got 'PennPed00001.png first'")


def test_box_disagreement_is_a_warning(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'
    lines = path.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if 'Bounding box' in line)
    head, _, tail = lines[i].rpartition('(')
    x2, y2 = map(int, tail.rstrip(')').split(','))
    lines[i] = f'{head}({x2 + 7}, {y2})'
    path.write_text('\n'.join(lines) + '\n')
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if 'differs by' in line]
    assert len(warnings) == 1 and 'PennPed00003.txt: object 1' in warnings[0]
    assert 'by 7 px' in warnings[0]
    result = cli('--src', tiny, '--out', tmp_path / 'b', '--box-tol', 7)
    assert result.code == 0 and 'differs by' not in result.err


def test_annotation_count_mismatch_is_a_warning(tiny, tmp_path, cli):
    path = tiny / 'Annotation/PennPed00003.txt'  # 2 pedestrians, the 2nd one added
    path.write_text(path.read_text().split('# Details for pedestrian 2')[0])
    added = tiny / 'added-object-list.txt'
    added.write_text(added.read_text().replace('PennPed00003.png\t2\n', ''))
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert result.code == 0, result.err
    assert 'PennPed00003.txt: declares 2 objects but has 1' in result.err
    assert 'the mask has 2 instances' in result.err


def test_empty_mask_is_kept_or_skipped(tiny, tmp_path, cli):
    Image.fromarray(np.zeros((48, 32), np.uint8)).save(tiny / 'PedMasks/FudanPed00004_mask.png')
    result = cli('--src', tiny, '--out', tmp_path / 'a')
    assert result.code == 0
    assert 'FudanPed00004_mask.png has no instance: keeping' in result.err
    coco = load(tmp_path / 'a', 'all')
    assert len(coco['images']) == 18 and len(coco['annotations']) == 35
    result = cli('--src', tiny, '--out', tmp_path / 'b', '--skip-empty')
    assert result.code == 0 and 'skipping the image' in result.err
    assert 'PNGImages/FudanPed00004.png' not in names_of(load(tmp_path / 'b', 'all'))
    assert len(load(tmp_path / 'b', 'all')['images']) == 17


def test_non_png_files_are_ignored(tiny, tmp_path, cli):
    (tiny / 'PNGImages/Thumbs.db').write_bytes(b'\0' * 10)
    (tiny / 'PedMasks/notes.txt').write_text('hi')
    (tiny / 'PedMasks/old').mkdir()
    result = cli('--src', tiny, '--out', tmp_path / 'out')
    assert result.code == 0
    assert 'Thumbs.db (not a .png file)' in result.err
    assert 'notes.txt (not a .png file)' in result.err and 'old/ (a folder)' in result.err
    assert len(load(tmp_path / 'out', 'all')['images']) == 18


# ------------------------------------------------------------------ bad input
def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


BAD_INPUTS = {
    'src missing': (lambda d: d / 'nope', ['--src', 'nope: no such file or folder']),
    'not pennfudan': (lambda d: d / 'PedMasks', ['is not a Penn-Fudan dataset', 'PNGImages/']),
    'image without mask': (lambda d: (d / 'PedMasks/PennPed00005_mask.png').unlink(),
                           ['PNGImages/PennPed00005.png has no mask',
                            'PedMasks/PennPed00005_mask.png is missing']),
    'mask without image': (lambda d: (d / 'PNGImages/FudanPed00002.png').unlink(),
                           ['PedMasks/FudanPed00002_mask.png has no image']),
    'bad mask name': (lambda d: os.rename(d / 'PedMasks/FudanPed00002_mask.png',
                                          d / 'PedMasks/FudanPed00002.png'),
                      ['FudanPed00002.png: mask names must be']),
    'mask size': (lambda d: Image.new('L', (33, 48)).save(d / 'PedMasks/FudanPed00003_mask.png'),
                  ['FudanPed00003_mask.png: mask size 33x48 differs from the image size 32x48']),
    'truncated image': (lambda d: _truncate(d / 'PNGImages/PennPed00007.png'),
                        ['PennPed00007.png: corrupt or truncated PNG']),
    'corrupt mask': (lambda d: (d / 'PedMasks/PennPed00008_mask.png').write_bytes(
        b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 4),
        ['PennPed00008_mask.png: corrupt or truncated PNG']),
    'jpeg named png': (lambda d: Image.new('RGB', (32, 48)).save(
        d / 'PNGImages/FudanPed00001.png', format='JPEG'),
        ['FudanPed00001.png: not a PNG file (it is JPEG data)']),
    'rgb mask': (lambda d: Image.new('RGB', (32, 48)).save(d / 'PedMasks/FudanPed00001_mask.png'),
                 ['FudanPed00001_mask.png: expected a single-channel']),
}


@pytest.mark.parametrize('case', list(BAD_INPUTS))
def test_bad_input(tiny, tmp_path, cli, case):
    break_it, fragments = BAD_INPUTS[case]
    src = break_it(tiny)
    out = tmp_path / 'out'
    assert_failed(cli('--src', src if isinstance(src, Path) else tiny, '--out', out), *fragments)
    assert not out.exists() and leftovers(out) == []


def test_bad_zips(tiny_zip, tmp_path, cli):
    _truncate(tiny_zip)
    assert_failed(cli('--src', tiny_zip, '--out', tmp_path / 'out'),
                  f'{tiny_zip}: corrupt or truncated zip archive')
    (tmp_path / 'notes.txt').write_text('hello')
    assert_failed(cli('--src', tmp_path / 'notes.txt', '--out', tmp_path / 'out'),
                  'neither a folder nor a zip archive')
    with zipfile.ZipFile(tmp_path / 'other.zip', 'w') as zf:
        zf.writestr('photos/a.png', b'x')
    assert_failed(cli('--src', tmp_path / 'other.zip', '--out', tmp_path / 'out'),
                  'other.zip is not a Penn-Fudan dataset')
    assert not (tmp_path / 'out').exists()


def test_corrupt_member_of_a_zip(tiny_zip, tmp_path, cli):
    data = bytearray(tiny_zip.read_bytes())
    with zipfile.ZipFile(tiny_zip) as zf:
        info = zf.getinfo('PennFudanPed/PNGImages/PennPed00002.png')
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20] ^= 0xFF  # inside the compressed bytes: a CRC or inflate error
    tiny_zip.write_bytes(bytes(data))
    assert_failed(cli('--src', tiny_zip, '--out', tmp_path / 'out'),
                  'PennPed00002.png: cannot read')


def test_bad_options_are_usage_errors(tiny, tmp_path, cli):
    for ratios in (['0.8', '0.1', '0.2'], ['1.2', '-0.1', '-0.1'], ['0.5', '0.5', '0'],
                   ['nan', '0.5', '0.5']):
        result = cli('--src', tiny, '--out', tmp_path / 'o', '--ratios', *ratios)
        assert result.code == 2 and '--ratios needs three positive' in result.err
    assert cli('--src', tiny, '--out', tmp_path / 'o', '--ratios', '0.8', '0.2').code == 2
    assert '--folds must be >= 2' in cli('--src', tiny, '--out', tmp_path, '--folds', 1).err
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'o', '--folds', 20),
                  '--folds 20 exceeds the 16 train+val images')
    assert_failed(cli('--src', tiny, '--out', tmp_path / 'o', '--ratios', '0.98', '0.01', '0.01'),
                  'leave the val split empty for 18 images')
    assert not (tmp_path / 'o').exists()


# ---------------------------------------------------------- output replacement
def test_existing_output_needs_overwrite(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out).code == 0
    before = snapshot(out)
    assert_failed(cli('--src', tiny, '--out', out, '--seed', 3), 'already exists', '--overwrite')
    assert snapshot(out) == before
    assert cli('--src', tiny, '--out', out, '--seed', 3, '--overwrite').code == 0
    assert snapshot(out) != before and leftovers(out) == []
    out.mkdir(exist_ok=True)
    (tmp_path / 'empty').mkdir()  # an existing empty folder is fine
    assert cli('--src', tiny, '--out', tmp_path / 'empty').code == 0


def test_output_with_foreign_files_is_refused(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out).code == 0
    (out / 'notes.txt').write_text('mine')
    before = snapshot(out)
    assert_failed(cli('--src', tiny, '--out', out, '--overwrite'),
                  'holds notes.txt, which this converter did not write')
    assert snapshot(out) == before
    assert_failed(cli('--src', tiny, '--out', tiny / 'coco'), 'is inside the dataset folder')
    assert_failed(cli('--src', tiny, '--out', tmp_path, '--overwrite'), 'did not write')
    assert not (tiny / 'coco').exists()


def test_images_link_pointing_elsewhere_is_replaced(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'PNGImages').symlink_to(tmp_path)
    assert_failed(cli('--src', tiny, '--out', out), 'PNGImages already exists', '--overwrite')
    assert cli('--src', tiny, '--out', out, '--overwrite').code == 0
    assert (out / 'PNGImages').resolve() == (tiny / 'PNGImages').resolve()
    assert tmp_path.is_dir()  # only the link was replaced


def test_failed_overwrite_leaves_output_untouched(tiny, tmp_path, cli):
    out = tmp_path / 'out'
    assert cli('--src', tiny, '--out', out, '--folds', 2).code == 0
    before = snapshot(out)
    _truncate(tiny / 'PedMasks/PennPed00010_mask.png')
    assert_failed(cli('--src', tiny, '--out', out, '--overwrite'),
                  'PennPed00010_mask.png: corrupt or truncated PNG')
    assert snapshot(out) == before and leftovers(out) == []


@pytest.mark.parametrize('when', ['after writing', 'at the final rename'])
def test_interrupted_overwrite_keeps_the_previous_output(tiny_zip, tmp_path, cli, monkeypatch,
                                                         when):
    from data_prep import atomic_folder, pennfudan_to_coco

    out = tmp_path / 'out'
    assert cli('--src', tiny_zip, '--out', out, '--folds', 3).code == 0
    before = snapshot(out)
    seen = []
    if when == 'after writing':
        write_output = pennfudan_to_coco.write_output

        def interrupted(tmp, *args):
            write_output(tmp, *args)
            seen.append(snapshot(tmp))
            raise KeyboardInterrupt

        monkeypatch.setattr(pennfudan_to_coco, 'write_output', interrupted)
    else:
        rename = os.rename

        def interrupted(src, dst):
            if str(src).endswith('.new'):  # the new output, after the old one moved aside
                seen.append((snapshot(Path(src)), os.path.exists(out)))
                raise KeyboardInterrupt
            rename(src, dst)

        monkeypatch.setattr(atomic_folder.os, 'rename', interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli('--src', tiny_zip, '--out', out, '--seed', 5, '--overwrite')
    written = seen[0] if when == 'after writing' else seen[0][0]
    assert 'annotations/instances_test.json' in written and written != before
    if when == 'at the final rename':
        assert seen[0][1] is False  # the interrupt came while the old output was aside
    assert snapshot(out) == before and leftovers(out) == []


# ----------------------------------------------------------------- entry points
@pytest.mark.parametrize('entry', [['data_prep/pennfudan_to_coco.py'],
                                   ['-m', 'data_prep.pennfudan_to_coco']])
def test_command_line_entry_points(tiny, tmp_path, entry):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}

    def run(*args):
        return subprocess.run([sys.executable, *entry, *map(str, args)], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    proc = run('--src', tiny, '--out', tmp_path / 'out')
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'out/annotations/instances_all.json').is_file()
    proc = run('--src', tiny / 'PedMasks', '--out', tmp_path / 'out2')
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith('error: ') and proc.stderr.count('error') == 1
