"""SimpleFPN: the ViTDet feature pyramid built from one plain-ViT feature map.

Li et al., "Exploring Plain Vision Transformer Backbones for Object Detection"
(ECCV 2022): a plain ViT yields a single stride-16 map; the pyramid is made by
deconvolving it to strides 4 and 8, keeping it at 16 and max-pooling to 32.
Each level then goes through a lateral 1x1 and an output 3x3 conv (with norm),
and extra levels (stride 64 for the RPN) are max-pooled from the last one.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmengine.model import BaseModule
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, MultiConfig, OptConfigType


@MODELS.register_module()
class SimpleFPN(BaseModule):
    """Pyramid of strides 4, 8, 16, 32 (+ max-pooled extra levels) from a ViT.

    Args:
        backbone_channel: Channels ``C`` of the backbone's stride-16 map
            (192 for DeiT-tiny ... 1280 for ViT-H).
        in_channels: Channels of the four rebuilt levels before the lateral
            convs. Defaults to ``[C // 4, C // 2, C, C]`` as in ViTDet.
        out_channels: Channels of every output level.
        num_outs: Number of outputs; levels beyond the rebuilt ones are stride-2
            max pools of the last one (5 gives strides 4..64 for the RPN).
        start_level: First rebuilt level to output (0: stride 4, 1: stride 8 ...);
            the levels below it are not built at all, which saves their convs.
        norm_cfg: Norm after deconvs and in lateral/output convs. Defaults to
            channel-first LayerNorm (``mmpretrain.LN2d``); any mmcv norm works.
        act_cfg: Activation between the two stride-4 deconvolutions.
        in_index: Which backbone output to use when it returns several maps.

    Shapes:
        input: tuple of ``(B, C, H/16, W/16)`` (mmpretrain ViT, ``out_type='featmap'``)
        output: tuple of ``(B, out_channels, H/s, W/s)`` for s in 4, 8, 16, 32, 64...
    """

    def __init__(self,
                 backbone_channel: int,
                 in_channels: Optional[Sequence[int]] = None,
                 out_channels: int = 256,
                 num_outs: int = 5,
                 norm_cfg: OptConfigType = dict(type='mmpretrain.LN2d', eps=1e-6),
                 act_cfg: ConfigType = dict(type='GELU'),
                 in_index: int = -1,
                 start_level: int = 0,
                 init_cfg: MultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        c = backbone_channel
        if in_channels is None:
            in_channels = [c // 4, c // 2, c, c]
        if len(in_channels) != 4:
            raise ValueError(f'SimpleFPN builds 4 levels; in_channels must have 4 '
                             f'entries, got {list(in_channels)}')
        if not 0 <= start_level <= 3:
            raise ValueError(f'SimpleFPN start_level must be 0..3, got {start_level}')
        if num_outs < 4 - start_level:
            raise ValueError(f'SimpleFPN num_outs must be >= {4 - start_level} '
                             f'(start_level={start_level}), got {num_outs}')
        self.backbone_channel = c
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.in_index = in_index
        self.start_level = start_level

        def norm(ch: int) -> nn.Module:
            return build_norm_layer(norm_cfg, ch)[1] if norm_cfg else nn.Identity()

        c4, c8, c16, c32 = self.in_channels
        # stride 4: two 2x deconvs with norm + activation between them;
        # stride 8: one 2x deconv; stride 16: as is (1x1 proj if widths differ);
        # stride 32: 2x max pool
        rebuild = [
            lambda: nn.Sequential(
                nn.ConvTranspose2d(c, c // 2, 2, 2), norm(c // 2),
                build_activation_layer(act_cfg), nn.ConvTranspose2d(c // 2, c4, 2, 2)),
            lambda: nn.ConvTranspose2d(c, c8, 2, 2),
            lambda: nn.Identity() if c16 == c else nn.Conv2d(c, c16, 1),
            lambda: nn.Sequential(
                nn.MaxPool2d(2, 2), nn.Identity() if c32 == c else nn.Conv2d(c, c32, 1)),
        ]
        # named fpn1..fpn4 as in ViTDet, so its checkpoints keep loading
        self.levels = [f'fpn{i + 1}' for i in range(start_level, 4)]
        for name, make in zip(self.levels, rebuild[start_level:]):
            self.add_module(name, make())

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for ch in self.in_channels[start_level:]:
            self.lateral_convs.append(ConvModule(
                ch, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None, inplace=False))
            self.fpn_convs.append(ConvModule(
                out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                act_cfg=None, inplace=False))

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
                ) -> Tuple[torch.Tensor, ...]:
        """Build the pyramid from the stride-16 map (see class docstring)."""
        x = inputs if isinstance(inputs, torch.Tensor) else inputs[self.in_index]
        if x.dim() != 4 or x.shape[1] != self.backbone_channel:
            raise ValueError(
                f'SimpleFPN expects a (B, {self.backbone_channel}, H, W) feature map; '
                f'got {tuple(x.shape)}. Set the backbone to out_type="featmap" and '
                f'backbone_channel to its embedding width.')
        feats: List[torch.Tensor] = [getattr(self, name)(x) for name in self.levels]
        outs = [fpn(lat(f)) for f, lat, fpn in
                zip(feats, self.lateral_convs, self.fpn_convs)]
        for _ in range(self.num_outs - len(outs)):
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
