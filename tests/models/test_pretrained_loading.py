"""Pretrained ViT weights through init_cfg: key prefix, pos-embed resize, URL errors."""
import pytest
import torch
from mmengine.config import Config

from pennfudan_vit.engine import CheckpointDownloadError

TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def _classifier_checkpoint(path, img_size=32):
    """A checkpoint laid out like mmpretrain's classifiers: `backbone.*` + `head.*`."""
    from mmdet.registry import MODELS
    vit = MODELS.build(dict(type='mmpretrain.VisionTransformer', arch=TINY_ARCH,
                            img_size=img_size, patch_size=16, with_cls_token=True))
    for p in vit.parameters():
        torch.nn.init.normal_(p)
    state = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
    state['head.layers.head.weight'] = torch.randn(10, 32)
    torch.save({'state_dict': state, 'meta': {'CLASSES': ['a'] * 10, 'epoch': 300}}, path)
    return vit


def _detector_cfg(repo_root, checkpoint, img_size=64):
    cfg = Config.fromfile(str(repo_root / 'configs' / 'vit_mrcnn_pennfudan.py'))
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=img_size, drop_path_rate=0.)
    cfg.model.backbone.init_cfg.checkpoint = str(checkpoint)
    cfg.model.neck.backbone_channel = 32
    return cfg


def test_local_classifier_checkpoint_loads_and_resizes(repo_root, tmp_path):
    from mmdet.registry import MODELS
    from mmpretrain.models.utils import resize_pos_embed
    ckpt = tmp_path / 'vit_cls.pth'
    src = _classifier_checkpoint(ckpt, img_size=32)          # 2x2 patch grid
    model = MODELS.build(_detector_cfg(repo_root, ckpt, img_size=64).model)  # 4x4 grid
    model.init_weights()
    bb = model.backbone
    torch.testing.assert_close(bb.layers[1].attn.qkv.weight, src.layers[1].attn.qkv.weight)
    torch.testing.assert_close(bb.patch_embed.projection.weight,
                               src.patch_embed.projection.weight)
    assert bb.pos_embed.shape == (1, 1 + 16, 32)
    expected = resize_pos_embed(src.pos_embed, (2, 2), (4, 4), mode='bicubic',
                                num_extra_tokens=1)
    torch.testing.assert_close(bb.pos_embed, expected)
    # the detector then runs on a non-square input of another size
    with torch.no_grad():
        feats = bb(torch.randn(1, 3, 48, 80))
    assert feats[0].shape == (1, 32, 3, 5)


def test_unreachable_url_says_how_to_use_a_local_file(repo_root):
    from mmdet.registry import MODELS
    # port 9 on loopback: nothing listens, so the connection is refused at once
    cfg = _detector_cfg(repo_root, 'http://127.0.0.1:9/vit-base-p16.pth')
    model = MODELS.build(cfg.model)
    with pytest.raises(CheckpointDownloadError) as info:
        model.init_weights()
    msg = str(info.value)
    assert 'http://127.0.0.1:9/vit-base-p16.pth' in msg
    assert 'model.backbone.init_cfg.checkpoint=/path/to/vit-base-p16.pth' in msg


def test_missing_local_checkpoint_is_named(repo_root, tmp_path):
    from mmdet.registry import MODELS
    missing = tmp_path / 'nope.pth'
    model = MODELS.build(_detector_cfg(repo_root, missing).model)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.init_weights()
