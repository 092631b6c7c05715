"""What the configs' ``custom_imports`` load."""
import json
import subprocess
import sys

from helpers import ROOT


def _modules_after(code: str) -> set:
    """Module names loaded by ``code`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, '-c', f'{code}\nimport sys, json\n'
                          'print(json.dumps(sorted(sys.modules)))'],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_custom_imports_load_training_pieces_only():
    """``custom_imports`` (models, engine) load no harness, deploy or evaluation code."""
    loaded = _modules_after('import pennfudan_vit.models, pennfudan_vit.engine')
    assert 'pennfudan_vit.models.simple_fpn' in loaded
    assert 'pennfudan_vit.engine.layer_decay' in loaded
    foreign = sorted(m for m in loaded if m.startswith('pennfudan_bench') or any(
        m.startswith(f'pennfudan_vit.{room}') for room in
        ('deploy', 'evaluation', 'cross_val', 'visualization', 'testing')))
    assert foreign == []
