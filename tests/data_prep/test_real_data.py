"""The converter on the real Penn-Fudan ($PENNFUDAN_SRC): counts, exact RLE, stable bytes."""
import hashlib
from collections import Counter
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from data_prep.pennfudan import open_dataset
from data_prep_checks import FILES, SPLITS, assert_rle_exact, load, names_of, snapshot

# sha256 of the files written by `--folds 5` (default options) on the official dataset;
# the same bytes as the converter this one replaced wrote.
DIGESTS = {
    'train': 'ed8d9b716de3dd50d17c3771cb720c0c51cf5a93a4ebab21a6efc7430f1e2886',
    'val': '7f48efaead23954485c9d60ecc5208ff1f853e628b59f1fe6412488942cabfc8',
    'test': 'db1c1f98080b177680a6ca8ca33e1992a19714e9623629eeb21c07910a6196e8',
    'all': 'aa7a8824415c0d1889f30791f51420b86bfea007014888388cd3c04b96dc48d5',
}


@pytest.fixture(scope='module')
def real(tmp_path_factory, pennfudan_src, cli):
    """The real dataset converted three times: keep with folds (twice), ignore."""
    base = tmp_path_factory.mktemp('real')
    runs = {}
    for name, extra in (('keep', ['--folds', '5']), ('keep_again', ['--folds', '5']),
                        ('ignore', ['--added', 'ignore'])):
        result = cli('--src', pennfudan_src, '--out', base / name, *extra)
        assert result.code == 0, result.err
        runs[name] = (base / name, result)
    return runs


@pytest.fixture(scope='module')
def masks_dir(pennfudan_src, tmp_path_factory):
    """The PedMasks folder on disk (extracted when $PENNFUDAN_SRC is the zip)."""
    with open_dataset(Path(pennfudan_src)) as root:
        if isinstance(root, Path):
            return root / 'PedMasks'
        folder = tmp_path_factory.mktemp('masks')
        for entry in (root / 'PedMasks').iterdir():
            (folder / entry.name).write_bytes(entry.read_bytes())
        return folder


def test_real_splits(real):
    out, result = real['keep']
    cocos = {name: load(out, name) for name in FILES}
    assert [len(cocos[s]['images']) for s in SPLITS] == [136, 17, 17]
    split_names = [names_of(cocos[s]) for s in SPLITS]
    assert sum(map(len, split_names)) == 170
    assert set().union(*split_names) == names_of(cocos['all'])
    for names in split_names:
        assert Counter(Path(n).name[:4] for n in names).keys() == {'Fuda', 'Penn'}
    for name in FILES:
        coco = COCO(out / f'annotations/instances_{name}.json')
        assert all((out / img['file_name']).is_file() for img in coco.imgs.values())


def test_real_bytes_are_stable(real):
    out, _ = real['keep']
    assert snapshot(out / 'annotations') == snapshot(real['keep_again'][0] / 'annotations')
    for name, digest in DIGESTS.items():
        path = out / f'annotations/instances_{name}.json'
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, name


def test_real_instances_and_rle(real, masks_dir):
    coco = load(real['keep'][0], 'all')
    assert len(coco['annotations']) == 423 and not any(a['iscrowd'] for a in coco['annotations'])
    assert sum(a['added'] for a in coco['annotations']) == 78
    assert assert_rle_exact(coco, masks_dir) == 423
    ignore = load(real['ignore'][0], 'all')['annotations']
    assert Counter(a['iscrowd'] for a in ignore) == {0: 345, 1: 78}
    assert all(a['iscrowd'] == a['added'] for a in ignore)
    assert sum(len(load(real['keep'][0], s)['annotations']) for s in SPLITS) == 423


def test_real_folds(real):
    out, _ = real['keep']
    test = names_of(load(out, 'test'))
    pool = names_of(load(out, 'train')) | names_of(load(out, 'val'))
    vals = [names_of(load(out, f'fold{k}_val')) for k in range(5)]
    assert len(pool) == 153 and sum(map(len, vals)) == 153 and set().union(*vals) == pool
    for k in range(5):
        train = names_of(load(out, f'fold{k}_train'))
        assert train == pool - vals[k] and not (train | vals[k]) & test


def test_real_box_cross_check(real):
    warnings = [line for line in real['keep'][1].err.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'PennPed00027.txt: object 1' in warnings[0]


def test_mmdet_coco_dataset_loads_train(real):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoDataset

    out, _ = real['keep']
    dataset = CocoDataset(metainfo=dict(classes=('pedestrian', )), data_root=str(out),
                          ann_file='annotations/instances_train.json', data_prefix=dict(img=''),
                          filter_cfg=dict(filter_empty_gt=False), pipeline=[])
    assert len(dataset) == 136
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert sum(len(i['instances']) for i in infos) == len(load(out, 'train')['annotations'])
    assert all(Path(info['img_path']).is_file() for info in infos)
