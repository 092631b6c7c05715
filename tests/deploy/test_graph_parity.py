"""The exported graph computes what mmdet's Mask R-CNN computes, at several input sizes.

Random weights make every proposal a detection candidate (softmax scores near
0.5 all pass score_thr), so the comparison covers the full RPN -> RoI -> NMS ->
mask path with max_per_img detections, not a handful of confident ones. Mask
probabilities are compared before pasting, where they are continuous.
"""
import numpy as np
import pytest
import torch

from pennfudan_vit.deploy.compare import box_iou
from pennfudan_vit.deploy.export import export_model
from pennfudan_vit.deploy.metadata import INPUT_NAMES, OUTPUT_NAMES
from pennfudan_vit.deploy.runtime import open_session

from deploy_helpers import CONFIGS, build_random

# (config, export size, [(padded H, W, valid h, w)]): the second input differs from the
# traced one in both sides and has padding, so shapes must be dynamic
CASES = [
    ('cpu', (192, 192), [(192, 192, 192, 171), (128, 256, 121, 256)]),
    # ViT-B: the same graph code as the CPU config's ViT, at several times its cost
    pytest.param('main', (160, 160), [(160, 160, 160, 150), (128, 192, 128, 181)],
                 marks=pytest.mark.slow),
    ('r50', (192, 192), [(192, 192, 192, 171), (128, 256, 121, 256)]),
]


def mmdet_predict(model, image: torch.Tensor, h: int, w: int):
    """mmdet's boxes, scores, labels and (N, 28, 28) mask probabilities, no rescaling."""
    from mmdet.structures import DetDataSample
    captured = []
    hook = model.roi_head.mask_head.register_forward_hook(
        lambda mod, args, out: captured.append(out))
    sample = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
        batch_input_shape=tuple(image.shape[2:]), pad_shape=tuple(image.shape[2:])))
    try:
        with torch.no_grad():
            res = model.predict(image, [sample], rescale=False)[0].pred_instances
    finally:
        hook.remove()
    logits = captured[0][torch.arange(len(res)), res.labels]
    return (res.bboxes.numpy(), res.scores.numpy(), res.labels.numpy(),
            logits.sigmoid().numpy())


@pytest.mark.parametrize('name,size,inputs', CASES, ids=['cpu', 'main', 'r50'])
def test_onnx_matches_mmdet(name, size, inputs, tmp_path):
    cfg, model = build_random(CONFIGS[name])
    data, meta, _ = export_model(model, cfg, CONFIGS[name], size, simplify=name == 'cpu',
                                 verify=False)
    path = tmp_path / f'{name}.onnx'
    path.write_bytes(data)
    session = open_session(str(path))
    g = torch.Generator().manual_seed(1)
    for big_h, big_w, h, w in inputs:
        image = torch.randn(1, 3, big_h, big_w, generator=g)
        image[..., h:, :] = 0  # mmdet pads after normalising, with zeros
        image[..., w:] = 0
        boxes, scores, labels, masks = mmdet_predict(model, image, h, w)
        got = dict(zip(OUTPUT_NAMES, session.run(list(OUTPUT_NAMES), {
            INPUT_NAMES[0]: image.numpy(), INPUT_NAMES[1]: np.array([h, w], np.float32)})))
        where = f'{name} at {big_h}x{big_w}'
        assert len(scores) == meta.max_per_img, f'{where}: want a full detection list'
        assert len(got['scores']) == len(scores), where
        ious = np.diag(box_iou(got['boxes'], boxes))
        assert ious.min() > 0.999, f'{where}: box IoU {ious.min()}'
        assert np.abs(got['boxes'] - boxes).max() < 0.05, where
        assert np.abs(got['scores'] - scores).max() < 1e-4, where
        assert (got['labels'] == labels).all(), where
        assert got['masks'].shape == masks.shape, where
        assert np.abs(got['masks'] - masks).max() < 1e-3, where
        assert (got['boxes'][:, 2] <= w + 1e-3).all() and (got['boxes'][:, 3] <= h + 1e-3).all()


def test_no_detection_gives_empty_outputs(tmp_path):
    cfg, model = build_random(CONFIGS['cpu'])
    model.test_cfg.rcnn.score_thr = 1.0  # softmax never exceeds it
    data, _, diffs = export_model(model, cfg, CONFIGS['cpu'], (128, 128), simplify=False)
    assert diffs['detections'] == 0 and diffs['count_diff'] == 0
    path = tmp_path / 'empty.onnx'
    path.write_bytes(data)
    out = open_session(str(path)).run(None, {
        'image': np.zeros((1, 3, 96, 128), np.float32),
        'image_hw': np.array([96, 128], np.float32)})
    assert [o.shape for o in out] == [(0, 4), (0,), (0,), (0, 28, 28)]
