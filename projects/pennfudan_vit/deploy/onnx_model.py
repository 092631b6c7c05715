"""An export-only view of a trained mmdet ``MaskRCNN``: its weights, standard-ONNX inference.

The backbone, neck and head layers are the detector's own modules; what mmdet
does with mmcv ops or Python control flow (anchors, proposal selection, NMS,
RoIAlign, box decoding, per-class selection) is re-done with
:mod:`pennfudan_vit.deploy.graph_ops`, step for step with mmdet's test path.
"""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from ..errors import UserError
from .graph_ops import (batched_nms, delta2bbox, grid_anchors, multilevel_roi_align,
                        topk_count, with_batch_index)


def _coder(head) -> Dict:
    coder = head.bbox_coder
    if type(coder).__name__ != 'DeltaXYWHBBoxCoder' or coder.add_ctr_clamp:
        raise UserError(f'ONNX export supports DeltaXYWHBBoxCoder without add_ctr_clamp; '
                        f'{type(head).__name__} has {type(coder).__name__}')
    return dict(means=torch.tensor(coder.means, dtype=torch.float32),
                stds=torch.tensor(coder.stds, dtype=torch.float32),
                clip_border=bool(coder.clip_border))


def _roi_extractor(extractor) -> Dict:
    from mmcv.ops import RoIAlign
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
    layer = extractor.roi_layers[0]
    # SeparableRoIExtractor / SeparableRoIAlign compute the same values: the graph's own
    if (not isinstance(extractor, SingleRoIExtractor) or not isinstance(layer, RoIAlign)
            or not layer.aligned or layer.pool_mode != 'avg'):
        raise UserError('ONNX export supports SingleRoIExtractor with RoIAlign(aligned=True, '
                        f'pool_mode="avg"); got {type(extractor).__name__} with {layer!r}')
    return dict(strides=list(extractor.featmap_strides), output_size=tuple(layer.output_size),
                sampling_ratio=int(layer.sampling_ratio),
                finest_scale=float(extractor.finest_scale))


def _nms_iou(cfg, where: str) -> float:
    nms_cfg = cfg.get('nms') or {}
    if nms_cfg.get('type', 'nms') != 'nms':
        raise UserError(f'ONNX export supports plain NMS; {where}.nms is {dict(nms_cfg)}')
    return float(nms_cfg['iou_threshold'])


class ExportableMaskRCNN(nn.Module):
    """``forward(image, image_hw) -> boxes, scores, labels, mask probabilities``.

    ``image`` is the normalised, padded (1, 3, H, W) network input and
    ``image_hw`` the (h, w) of the resized image inside it (mmdet's
    ``img_shape``, where boxes are clipped). Boxes are in that frame.
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        roi_head, rpn_head = detector.roi_head, detector.rpn_head
        if not (detector.with_rpn and roi_head.with_bbox and roi_head.with_mask):
            raise UserError('ONNX export needs a two-stage detector with RPN, box and mask heads')
        if getattr(roi_head, 'with_shared_head', False) or not rpn_head.use_sigmoid_cls:
            raise UserError('ONNX export supports StandardRoIHead without a shared head and '
                            'a sigmoid RPN')
        self.backbone, self.neck = detector.backbone, detector.neck
        self.rpn_head, self.bbox_head, self.mask_head = rpn_head, roi_head.bbox_head, \
            roi_head.mask_head
        gen = rpn_head.prior_generator
        if type(gen).__name__ != 'AnchorGenerator':
            raise UserError(f'ONNX export supports AnchorGenerator, got {type(gen).__name__}')
        for i, anchors in enumerate(gen.base_anchors):
            self.register_buffer(f'base_anchors_{i}', anchors.float().clone(), persistent=False)
        self.anchor_strides = [tuple(float(v) for v in s) for s in gen.strides]
        self.rpn_coder, self.rcnn_coder = _coder(rpn_head), _coder(self.bbox_head)
        self.bbox_roi, self.mask_roi = (_roi_extractor(roi_head.bbox_roi_extractor),
                                        _roi_extractor(roi_head.mask_roi_extractor))
        rpn_cfg, rcnn_cfg = detector.test_cfg.rpn, detector.test_cfg.rcnn
        self.rpn_nms_pre = int(rpn_cfg.get('nms_pre', -1))
        self.rpn_max = int(rpn_cfg.get('max_per_img', 1000))
        self.rpn_min_size = float(rpn_cfg.get('min_bbox_size', -1))
        self.rpn_iou = _nms_iou(rpn_cfg, 'test_cfg.rpn')
        self.score_thr = float(rcnn_cfg.score_thr)
        self.rcnn_iou = _nms_iou(rcnn_cfg, 'test_cfg.rcnn')
        self.max_per_img = int(rcnn_cfg.max_per_img)
        self.num_classes = int(self.bbox_head.num_classes)

    def features(self, image: Tensor) -> List[Tensor]:
        """Backbone + neck pyramid."""
        return list(self.neck(self.backbone(image)))

    def proposals(self, feats: List[Tensor], image_hw: Tensor) -> Tuple[Tensor, Tensor]:
        """RPN boxes and scores, as mmdet ``RPNHead.predict_by_feat`` (one image)."""
        cls_scores, bbox_preds = self.rpn_head(feats)
        boxes, scores, levels = [], [], []
        for lvl, (cls, reg) in enumerate(zip(cls_scores, bbox_preds)):
            anchors = grid_anchors(getattr(self, f'base_anchors_{lvl}'),
                                   self.anchor_strides[lvl], cls)
            s = cls[0].permute(1, 2, 0).reshape(-1).sigmoid()
            d = reg[0].permute(1, 2, 0).reshape(-1, 4)
            if self.rpn_nms_pre > 0:
                s, idx = s.topk(topk_count(s, self.rpn_nms_pre))
                d, anchors = d[idx], anchors[idx]
            boxes.append(delta2bbox(anchors, d, self.rpn_coder['means'], self.rpn_coder['stds'],
                                    image_hw, clip_border=self.rpn_coder['clip_border']))
            scores.append(s)
            levels.append(torch.full_like(s, lvl))
        boxes, scores, levels = torch.cat(boxes), torch.cat(scores), torch.cat(levels)
        if self.rpn_min_size >= 0:
            wh = boxes[:, 2:] - boxes[:, :2]
            valid = torch.where((wh[:, 0] > self.rpn_min_size) &
                                (wh[:, 1] > self.rpn_min_size))[0]
            boxes, scores, levels = boxes[valid], scores[valid], levels[valid]
        keep = batched_nms(boxes, scores, levels, self.rpn_iou)[:self.rpn_max]
        return boxes[keep], scores[keep]

    def detections(self, feats: List[Tensor], proposals: Tensor,
                   image_hw: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Boxes, scores, labels, as mmdet ``BBoxHead.predict_by_feat`` + ``multiclass_nms``."""
        rois = with_batch_index(proposals)
        roi_feats = multilevel_roi_align(feats[:len(self.bbox_roi['strides'])], rois,
                                         **self.bbox_roi)
        cls_score, bbox_pred = self.bbox_head(roi_feats)
        scores = torch.softmax(cls_score, dim=-1)[:, :-1]
        c = self.num_classes
        if self.bbox_head.reg_class_agnostic:
            decoded = self._decode(proposals, bbox_pred, image_hw)
            boxes = decoded[:, None].expand(-1, c, 4).reshape(-1, 4)
        else:
            boxes = self._decode(proposals.repeat_interleave(c, dim=0),
                                 bbox_pred.reshape(-1, 4), image_hw)
        labels = torch.arange(c).view(1, -1).expand_as(scores).reshape(-1)
        scores = scores.reshape(-1)
        valid = torch.where(scores > self.score_thr)[0]
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
        keep = batched_nms(boxes, scores, labels, self.rcnn_iou)[:self.max_per_img]
        return boxes[keep], scores[keep], labels[keep]

    def _decode(self, rois: Tensor, deltas: Tensor, image_hw: Tensor) -> Tensor:
        return delta2bbox(rois, deltas, self.rcnn_coder['means'], self.rcnn_coder['stds'],
                          image_hw, clip_border=self.rcnn_coder['clip_border'])

    def mask_probs(self, feats: List[Tensor], boxes: Tensor, labels: Tensor) -> Tensor:
        """(N, m, m) mask probabilities of each box's class, as mmdet ``FCNMaskHead``."""
        rois = with_batch_index(boxes)
        roi_feats = multilevel_roi_align(feats[:len(self.mask_roi['strides'])], rois,
                                         **self.mask_roi)
        logits = self.mask_head(roi_feats)
        if self.mask_head.class_agnostic:
            logits = logits[:, :1]
        else:
            index = labels.view(-1, 1, 1, 1).expand(-1, 1, logits.shape[2], logits.shape[3])
            logits = logits.gather(1, index)
        return logits[:, 0].sigmoid()

    def forward(self, image: Tensor, image_hw: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Detections of one image: boxes (N, 4), scores (N,), labels (N,), masks (N, m, m)."""
        feats = self.features(image)
        proposals, _ = self.proposals(feats, image_hw)
        boxes, scores, labels = self.detections(feats, proposals, image_hw)
        return boxes, scores, labels, self.mask_probs(feats, boxes, labels)
