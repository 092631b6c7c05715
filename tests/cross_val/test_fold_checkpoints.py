"""Which checkpoint a fold is evaluated with, and whether its training finished."""
import pytest
import torch
from mmengine.config import Config

from pennfudan_vit.cross_val.run import final_checkpoint, last_checkpoint, training_finished
from pennfudan_vit.errors import UserError


def test_last_and_finished(tmp_path):
    assert last_checkpoint(str(tmp_path)) is None
    for name in ('epoch_1.pth', 'epoch_2.pth', 'best_coco_bbox_mAP_epoch_2.pth',
                 'best_coco_segm_mAP_epoch_1.pth'):
        torch.save({}, tmp_path / name)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=2),
                      default_hooks=dict(checkpoint=dict(save_best='coco/segm_mAP'))))
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')  # mmengine's pointer
    assert not training_finished(last_checkpoint(str(tmp_path)), cfg)
    (tmp_path / 'last_checkpoint').unlink()  # falls back to the highest epoch
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    assert training_finished(str(tmp_path / 'epoch_2.pth'), cfg)
    assert not training_finished(str(tmp_path / 'best_coco_bbox_mAP_epoch_2.pth'), cfg)
    cfg.train_cfg.max_epochs = 3
    assert not training_finished(str(tmp_path / 'epoch_2.pth'), cfg)
    assert final_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')


def test_damaged_checkpoint_is_not_the_last(tmp_path, capsys):
    torch.save({}, tmp_path / 'epoch_1.pth')
    (tmp_path / 'epoch_2.pth').write_bytes(b'cut short')
    assert last_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    (tmp_path / 'epoch_1.pth').unlink()
    assert last_checkpoint(str(tmp_path)) is None
    with pytest.raises(UserError, match='no checkpoint in'):
        final_checkpoint(str(tmp_path))
    assert capsys.readouterr().err.count('skips damaged checkpoint') == 3
