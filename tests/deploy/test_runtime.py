"""The torch-free runtime: preprocessing and mask pasting as mmdet does them, clear errors."""
import json

import numpy as np
import pytest
import torch

from pennfudan_vit.deploy.image_ops import (keep_ratio_size, load_image, normalize_pad,
                                            padded_size, paste_masks, resize_bilinear)
from pennfudan_vit.errors import UserError


@pytest.mark.parametrize('hw,scale', [((375, 500), (384, 384)), ((97, 211), (640, 640)),
                                      ((400, 300), (256, 256)), ((61, 1000), (128, 160)),
                                      ((768, 512), (384, 384))])
def test_resize_is_mmcv_imrescale(hw, scale):
    import mmcv
    rng = np.random.default_rng(0)
    # smooth content plus noise: exercises rounding at every grey level
    img = (rng.random(hw + (3, )) * 255).astype(np.uint8)
    ref, _ = mmcv.imrescale(img, scale, return_scale=True)
    new_hw = keep_ratio_size(hw[0], hw[1], scale)
    assert ref.shape[:2] == new_hw
    assert np.array_equal(resize_bilinear(img, new_hw), ref)


def test_network_input_is_mmdets(tmp_path):
    """Resize + normalise + pad equal mmdet's test pipeline + DetDataPreprocessor output."""
    from mmcv.transforms import Compose
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    from PIL import Image
    rng = np.random.default_rng(1)
    rgb = (rng.random((203, 317, 3)) * 255).astype(np.uint8)
    path = tmp_path / 'x.png'
    Image.fromarray(rgb).save(path)
    pipeline = Compose([dict(type='LoadImageFromFile'),
                        dict(type='Resize', scale=(384, 384), keep_ratio=True),
                        dict(type='PackDetInputs')])
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    pre = DetDataPreprocessor(mean=mean, std=std, bgr_to_rgb=True, pad_size_divisor=32)
    data = pipeline(dict(img_path=str(path), img_id=0))
    want = pre(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    img = load_image(str(path))
    h, w = keep_ratio_size(*img.shape[:2], (384, 384))
    assert (h, w) == data['data_samples'].img_shape
    got = normalize_pad(resize_bilinear(img, (h, w)), mean, std, padded_size(h, w, 32))
    assert got.shape == tuple(want['inputs'].shape)
    assert np.abs(got - want['inputs'].numpy()).max() < 1e-5


def test_paste_masks_is_mmdets():
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(6, 1, 28, 28, generator=g)
    boxes = torch.tensor([[10.3, 5.2, 80.9, 120.4], [0.0, 0.0, 15.5, 9.1],
                          [150.2, 90.7, 199.6, 149.9], [40.0, 40.0, 40.0, 60.0],
                          [3.5, 100.25, 190.75, 148.5], [60.1, 20.2, 61.3, 21.9]])
    want = []
    for p, b in zip(probs, boxes):  # mmdet pastes one by one on CPU
        m, (ys, xs) = _do_paste_mask(p[None], b[None], 150, 200, skip_empty=True)
        full = torch.zeros(150, 200)
        full[ys, xs] = m[0]
        want.append((full >= 0.5).numpy())
    got = paste_masks(probs[:, 0].numpy(), boxes.numpy(), (150, 200), 0.5)
    for i, w in enumerate(want):
        assert (got[i] != w).sum() <= 1, f'mask {i}: {(got[i] != w).sum()} pixels differ'


def test_unreadable_image_is_named(tmp_path):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n not really')
    with pytest.raises(UserError, match='broken.png'):
        load_image(str(bad))
    with pytest.raises(UserError, match='does not exist'):
        load_image(str(tmp_path / 'absent.png'))


def test_metadata_round_trip(cpu_onnx):
    from pennfudan_vit.deploy.runtime import OnnxDetector
    det = OnnxDetector(str(cpu_onnx))
    meta = det.meta
    assert meta.config == 'deit-tiny_mrcnn_pennfudan_cpu.py'
    assert meta.input_size == (256, 256) and meta.size_divisor == 32
    assert meta.class_names == ['pedestrian'] and meta.rgb
    assert meta.score_thr == 0.05 and meta.mask_thr == 0.5
    assert meta.mean == [123.675, 116.28, 103.53]
    assert meta.torch_version == torch.__version__
    props = det.session.get_modelmeta().custom_metadata_map
    assert json.loads(props['class_names']) == ['pedestrian']
