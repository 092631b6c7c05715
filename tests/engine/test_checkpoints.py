"""mmengine Runner checkpoints under torch>=2.6 weights_only loading, and resume."""
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from pennfudan_vit.engine import mmengine_safe_globals


class ToyData(Dataset):
    def __init__(self):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(16, 4, generator=g)
        self.y = self.x @ torch.tensor([1., -2., 3., 0.5])

    def __len__(self):
        return 16

    def __getitem__(self, i):
        return dict(inputs=self.x[i], target=self.y[i])


class ToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, inputs, target=None, mode='tensor'):
        out = self.fc(torch.stack(inputs)).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - torch.stack(target)) ** 2).mean())
        return out


def _runner(work_dir, max_epochs, resume=False, load_from=None):
    torch.manual_seed(0)  # the model is built before the Runner seeds
    return Runner(
        model=ToyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyData(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        param_scheduler=dict(type='MultiStepLR', milestones=[2], by_epoch=True, begin=0, end=3),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0, deterministic=True), resume=resume, load_from=load_from,
        default_scope='mmengine', experiment_name=f'toy_{work_dir.name}_{max_epochs}_{resume}')


def test_runner_checkpoint_loads_with_weights_only(tmp_path):
    _runner(tmp_path / 'a', 1).train()
    ckpt = tmp_path / 'a' / 'epoch_1.pth'
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert 'message_hub' in state and 'optimizer' in state
    allowed = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
               for g in mmengine_safe_globals()}
    unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(ckpt)))
    assert unsafe <= allowed, unsafe - allowed


def test_without_the_allow_list_torch_refuses(tmp_path):
    """The fix is needed (and narrow): plain torch still refuses these files."""
    _runner(tmp_path / 'b', 1).train()
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
            torch.load(tmp_path / 'b' / 'epoch_1.pth', weights_only=True)
    finally:
        torch.serialization.add_safe_globals(allowed)


class NotAllowed:
    pass


class Evil:
    def __reduce__(self):
        return getattr, ('a string', 'upper')


def test_other_globals_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': NotAllowed()}, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)
    # the getattr mapping resolves HistoryBuffer methods only
    torch.save({'x': Evil()}, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)


def test_resume_continues_to_the_same_weights(tmp_path):
    full = _runner(tmp_path / 'full', 3)
    full.train()
    part = _runner(tmp_path / 'part', 2)
    part.train()
    resumed = _runner(tmp_path / 'part', 3, resume=True)  # auto: latest in work dir
    resumed.train()
    assert resumed.iter == full.iter == 12
    torch.testing.assert_close(resumed.model.fc.weight, full.model.fc.weight)
    torch.testing.assert_close(resumed.model.fc.bias, full.model.fc.bias)


def test_checkpoint_of_another_model_is_named(tmp_path):
    from pennfudan_vit.detector import load_weights
    from pennfudan_vit.errors import UserError
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in model.state_dict().items()},
                'meta': {'experiment_name': 'tiny_cfg_20261128_101010'}}, good)
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    load_weights(fresh, str(good), 'configs/tiny_cfg.py')  # DDP's "module." prefix dropped
    torch.testing.assert_close(fresh[1].weight, model[1].weight)
    other = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 2))
    with pytest.raises(UserError) as err:
        load_weights(other, str(good), 'configs/other.py')
    message = str(err.value)
    assert 'does not match config configs/other.py' in message
    assert 'of another shape (e.g. 0.weight, 0.bias, 1.weight)' in message
    assert 'configs/tiny_cfg.py' in message
    with pytest.raises(UserError, match=r'2 missing \(e.g. 2.weight, 2.bias\), 2 unexpected'):
        load_weights(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Identity(),
                                         torch.nn.Linear(3, 2)), str(good), 'x')
    (tmp_path / 'bad.pth').write_bytes(good.read_bytes()[:50])
    with pytest.raises(UserError, match='bad.pth cannot be read'):
        load_weights(model, str(tmp_path / 'bad.pth'), 'x')


def test_interrupted_checkpoint_write_leaves_no_truncated_file(tmp_path, monkeypatch):
    from pennfudan_vit.engine import AtomicLocalBackend
    target = tmp_path / 'epoch_3.pth'
    target.write_bytes(b'old complete checkpoint')

    def fail_midway(fd):
        raise KeyboardInterrupt  # as a kill between write() and the rename would

    monkeypatch.setattr('os.fsync', fail_midway)
    with pytest.raises(KeyboardInterrupt):
        AtomicLocalBackend().put(b'x' * 1000, str(target))
    assert target.read_bytes() == b'old complete checkpoint'
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_3.pth']
