"""Every disagreement of classes, categories and heads stops tools/train.py and
tools/test.py with one line naming it and the fix, before a Runner or a model exists."""
import json
import shutil

import pytest

from helpers import ROOT, tool_main
from pennfudan_vit.config.classes import head_num_classes

from custom_data import CUSTOM_CONFIG


def _add_category(coco):
    coco['categories'].append({'id': 3, 'name': 'triangle', 'supercategory': 'triangle'})
    coco['annotations'][0]['category_id'] = 3


def _rename_dog(coco):
    coco['categories'][1]['name'] = 'Dog'


def _drop_dogs(coco):
    coco['annotations'] = [a for a in coco['annotations'] if a['category_id'] != 2]


def _swap_categories(coco):
    coco['categories'].reverse()


def _crowd_cats(coco):
    for ann in coco['annotations']:
        ann['iscrowd'] = int(ann['category_id'] == 1)


CASES = {
    'head': (None, ['model.roi_head.bbox_head.num_classes=3'],
             'model.roi_head.bbox_head.num_classes is 3, but train_dataloader.dataset.metainfo '
             "has 2 classes ('cat', 'dog'): set num_classes = len(metainfo['classes'])"),
    'mask head': (None, ['model.roi_head.mask_head.num_classes=1'],
                  'model.roi_head.mask_head.num_classes is 1, but'),
    'category not in classes': (
        ('train', _add_category), [],
        "has objects of categories that metainfo classes ('cat', 'dog') do not name: "
        "'triangle' (1); mmdet would drop them silently"),
    'class not in file': (('val', _rename_dog), [],
                          "val_dataloader.dataset: metainfo class 'dog' is not a category of"),
    'no training object': (('train', _drop_dogs), [], "class 'dog' has no object "
                           '(crowd regions aside) in the training file'),
    'crowd only': (('train', _crowd_cats), [],
                   "class 'cat' has no object (crowd regions aside)"),
    'order': (('train', _swap_categories), [],
              "metainfo classes ('cat', 'dog') are not in the order of the categories of"),
    'no metainfo': (None, ['train_dataloader.dataset.metainfo=None'],
                    "train_dataloader.dataset has no metainfo, so mmdet assumes CocoDataset's "
                    "80 classes ('person', 'bicycle', 'car', ...), but its file has categories "
                    "('cat', 'dog'): set metainfo=dict(classes=('cat', 'dog'))"),
    'top-level metainfo': (None, ['metainfo.classes=[pedestrian]'],
                           "metainfo classes ('pedestrian',) (the names export and inference "
                           "print) differ from train_dataloader.dataset's ('cat', 'dog')"),
    'splits differ': (None, ['metainfo=None', 'val_dataloader.dataset.metainfo.classes=[c,d]'],
                      "val_dataloader.dataset.metainfo classes ('c', 'd') differ from "
                      "train_dataloader.dataset's ('cat', 'dog')"),
}


@pytest.fixture()
def data_root(tmp_path, shapes_data):
    """A copy of the shapes dataset's annotations beside a link to its images."""
    root = tmp_path / 'data'
    shutil.copytree(shapes_data / 'annotations', root / 'annotations')
    (root / 'images').symlink_to(shapes_data / 'images')
    return root


def _edit(root, split, change):
    path = root / 'annotations' / f'instances_{split}.json'
    coco = json.loads(path.read_text())
    change(coco)
    path.write_text(json.dumps(coco))


@pytest.fixture()
def no_runner(monkeypatch):
    """Building a Runner or loading a model fails the test: the checks come first."""
    import pennfudan_vit.testing
    import pennfudan_vit.training

    def fail(*args, **kwargs):
        raise AssertionError('the check ran too late')
    monkeypatch.setattr(pennfudan_vit.training, 'build_runner', fail)
    monkeypatch.setattr(pennfudan_vit.testing, 'build_runner', fail)
    monkeypatch.setattr(pennfudan_vit.testing, 'load_detector', fail)


def one_line_error(capsys, main, argv) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1, err[-3000:]
    assert err.startswith('error: '), err
    return err


@pytest.mark.parametrize('case', CASES)
def test_train_stops_at_a_class_mismatch(case, data_root, tmp_path, no_runner, capsys):
    edit, options, expected = CASES[case]
    if edit:
        _edit(data_root, *edit)
    argv = [CUSTOM_CONFIG, '--work-dir', tmp_path / 'work', '--data-root', data_root]
    err = one_line_error(capsys, tool_main('train'), argv + (
        ['--cfg-options', *options] if options else []))
    assert expected in err, err


def test_test_and_evaluator_files_are_checked(data_root, tmp_path, no_runner, capsys):
    checkpoint = tmp_path / 'any.pth'
    checkpoint.write_bytes(b'')  # never read: the config is refused first
    argv = [CUSTOM_CONFIG, checkpoint, '--work-dir', tmp_path, '--data-root', data_root]
    err = one_line_error(capsys, tool_main('test'), argv + [
        '--cfg-options', 'model.roi_head.bbox_head.num_classes=1'])
    assert 'bbox_head.num_classes is 1, but test_dataloader.dataset.metainfo has 2' in err
    _edit(data_root, 'test', _swap_categories)
    err = one_line_error(capsys, tool_main('test'), argv)
    assert 'test_dataloader.dataset: metainfo classes' in err and 'not in the order' in err
    other = data_root / 'annotations' / 'pedestrians.json'  # --data-root keeps the name
    other.write_text(json.dumps(dict(images=[], annotations=[], categories=[
        dict(id=1, name='pedestrian')])))
    argv = [CUSTOM_CONFIG, '--work-dir', tmp_path / 'work', '--data-root', data_root,
            '--cfg-options', f'val_evaluator.ann_file={other}']
    err = one_line_error(capsys, tool_main('train'), argv)
    assert f"val_evaluator: metainfo class 'cat' is not a category of {other}" in err


def test_heads_found_but_the_rpn():
    model = dict(rpn_head=dict(num_classes=1), roi_head=dict(
        bbox_head=[dict(num_classes=2), dict(num_classes=2)], mask_head=dict(num_classes=2)))
    assert head_num_classes(model) == [('model.roi_head.bbox_head.0.num_classes', 2),
                                       ('model.roi_head.bbox_head.1.num_classes', 2),
                                       ('model.roi_head.mask_head.num_classes', 2)]


def test_gpu_copy_changes_only_its_base(tmp_path, shapes_data):
    """docs/custom_dataset.md: on a GPU the copy names the main config as its base."""
    from pennfudan_vit.config import check_dataset_files, load_config
    shutil.copytree(ROOT / 'configs', tmp_path / 'configs')
    text = open(CUSTOM_CONFIG).read()
    assert "_base_ = '../deit-tiny_mrcnn_pennfudan_cpu.py'" in text
    copy = tmp_path / 'configs' / 'custom' / 'my_dataset_gpu.py'
    copy.write_text(text.replace('deit-tiny_mrcnn_pennfudan_cpu.py', 'vit_mrcnn_pennfudan.py'))
    cfg = load_config(str(copy), data_root=str(shapes_data))
    check_dataset_files(cfg)
    assert cfg.model.backbone.arch == 'base' and cfg.train_dataloader.batch_size == 8
    assert cfg.model.roi_head.bbox_head.num_classes == cfg.model.roi_head.mask_head.num_classes == 2
