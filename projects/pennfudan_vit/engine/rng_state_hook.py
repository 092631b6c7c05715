"""Save and restore random-number-generator states with checkpoints.

mmengine seeds once at start-up, so a run resumed from ``epoch_N.pth`` replays
epoch N+1 with other augmentations and RoI samples than the uninterrupted run
did. Storing the python/numpy/torch generator states in the checkpoint and
restoring them on resume makes a resumed CPU run (``num_workers=0``,
``randomness.deterministic=True``) end with the same weights.
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmdet.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Put ``rng_state`` into every checkpoint; restore it when one is resumed."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state: Optional[dict] = checkpoint.get('rng_state')
        # only a resume continues a run; `load_from` for fine-tuning/testing does not
        if not state or not getattr(runner, '_resume', False):
            return
        python = state['python']
        random.setstate((python[0], tuple(python[1]), python[2]))
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            cuda = state['cuda']
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)
