"""The custom config trains and tests a two-class dataset made from PNG masks: the
heads, the evaluation and the result files see both classes."""
import json

from helpers import TINY_SIZE, tool_main
from pennfudan_vit.detector import read_checkpoint

from custom_data import CLASSES, CUSTOM_CONFIG


def test_two_classes_train_and_test(shapes_data, shapes_checkpoint, tmp_path):
    weights = read_checkpoint(str(shapes_checkpoint))['state_dict']
    # a class score per class plus background; a box and a mask per class
    assert weights['roi_head.bbox_head.fc_cls.weight'].shape[0] == len(CLASSES) + 1
    assert weights['roi_head.bbox_head.fc_reg.weight'].shape[0] == 4 * len(CLASSES)
    assert weights['roi_head.mask_head.conv_logits.weight'].shape[0] == len(CLASSES)
    tool_main('test')([CUSTOM_CONFIG, str(shapes_checkpoint), '--work-dir', str(tmp_path),
                       '--data-root', str(shapes_data), *TINY_SIZE, '--bootstrap', '0',
                       '--cfg-options', 'test_evaluator.classwise=True',
                       'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'])
    report = json.loads(next(tmp_path.glob('test_*/metrics.json')).read_text())
    metrics = report['metrics']
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= metrics.keys()
    assert {f'coco/{name}_precision' for name in CLASSES} <= metrics.keys()
    segm = json.loads(open(report['result_files']['segm']).read())
    assert segm and {d['category_id'] for d in segm} <= {1, 2}
