# Your own COCO instance-segmentation dataset on the CPU config (docs/custom_dataset.md):
# copy this file into configs/custom/ and set data_root, the annotation files and the
# classes; the heads' num_classes follow the classes. On a GPU, base the copy on
# '../vit_mrcnn_pennfudan.py' instead: nothing below depends on the CPU settings.
_base_ = '../deit-tiny_mrcnn_pennfudan_cpu.py'

data_root = 'data/my_dataset/'
train_ann = 'annotations/instances_train.json'   # relative to data_root
val_ann = 'annotations/instances_val.json'
test_ann = 'annotations/instances_test.json'
# The category names of the annotation files, in their order (it numbers the labels;
# data_prep/masks_to_coco.py prints this line), and a colour per class for the pictures.
metainfo = dict(classes=('cat', 'dog'), palette=[(220, 20, 60), (0, 114, 178)])

num_classes = len(metainfo['classes'])
model = dict(roi_head=dict(bbox_head=dict(num_classes=num_classes),
                           mask_head=dict(num_classes=num_classes)))
# every split reads the same classes: a base config's datasets keep the base's metainfo
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, ann_file=train_ann))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, ann_file=val_ann))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, ann_file=test_ann))
val_evaluator = dict(ann_file=data_root + val_ann)
test_evaluator = dict(ann_file=data_root + test_ann)
