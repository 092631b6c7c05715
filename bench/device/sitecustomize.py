"""For the device check only (``bench/device/h200_check.sh``), never installed.

The device machine cannot reach a package registry and its time is too short to compile
mmcv's CUDA kernels, so mmcv is built there with its CPU ops. The model's RoIAlign layers
already run torchvision's kernel; the two mmcv kernels Mask R-CNN still calls on CUDA
tensors (``nms`` in the RPN and the box head, ``roi_align_forward`` in mmdet's mask
targets) are routed to torchvision's CUDA kernels, which compute the same thing. CPU tensors
keep mmcv's own kernels.
"""
import importlib

import torchvision

# (mmcv.ops re-exports functions named like these modules, so look the modules up)
_mmcv_nms = importlib.import_module('mmcv.ops.nms')
_mmcv_roi_align = importlib.import_module('mmcv.ops.roi_align')


class TorchvisionCudaOps:
    """``mmcv._ext`` with ``nms`` and ``roi_align_forward`` for CUDA tensors."""

    def __init__(self, ext):
        self._ext = ext

    def __getattr__(self, name):
        return getattr(self._ext, name)

    def nms(self, boxes, scores, iou_threshold, offset=0):
        if not boxes.is_cuda:
            return self._ext.nms(boxes, scores, iou_threshold=iou_threshold, offset=offset)
        if offset != 0:
            raise NotImplementedError('torchvision nms has no offset')
        return torchvision.ops.nms(boxes, scores, iou_threshold)

    def roi_align_forward(self, input, rois, output, argmax_y, argmax_x, *, aligned_height,
                          aligned_width, spatial_scale, sampling_ratio, pool_mode, aligned):
        if not input.is_cuda:
            return self._ext.roi_align_forward(
                input, rois, output, argmax_y, argmax_x, aligned_height=aligned_height,
                aligned_width=aligned_width, spatial_scale=spatial_scale,
                sampling_ratio=sampling_ratio, pool_mode=pool_mode, aligned=aligned)
        if pool_mode != 1:
            raise NotImplementedError('only average RoIAlign on CUDA here')
        output.copy_(torchvision.ops.roi_align(input, rois, (aligned_height, aligned_width),
                                               spatial_scale, sampling_ratio, aligned))


_mmcv_nms.ext_module = TorchvisionCudaOps(_mmcv_nms.ext_module)
_mmcv_roi_align.ext_module = TorchvisionCudaOps(_mmcv_roi_align.ext_module)
