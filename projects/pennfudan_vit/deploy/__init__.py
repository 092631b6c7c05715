"""Deployment: ONNX export (``export``, torch) and a torch-free runtime (``runtime``).

Nothing is imported here, so ``pennfudan_vit.deploy.runtime`` loads without torch.
"""
