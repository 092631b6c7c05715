"""Dataset preparation tools of pennfudan-vit.

``python data_prep/pennfudan_to_coco.py`` converts the Penn-Fudan pedestrian
dataset to COCO instance-segmentation JSON files (see ``docs/data.md``);
``python data_prep/masks_to_coco.py DATA`` does the same for your own masks as PNG
files (``docs/custom_dataset.md``).
"""
