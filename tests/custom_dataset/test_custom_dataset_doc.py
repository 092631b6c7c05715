"""docs/custom_dataset.md, run as written on the shapes dataset: its shell lines in order,
our tools in this process (with the tiny run's settings appended), every other line by
bash, in a scratch folder holding a copy of configs/."""
import os
import re
import shutil
import subprocess

import pytest

from custom_data import CLASSES, OPTIONS, write_shapes
from helpers import ROOT, TINY_SIZE, tool_main
from test_docs import shell_lines

DOC = ROOT / 'docs' / 'custom_dataset.md'
TOOL = re.compile(r'(tools|data_prep)/(\w+)\.py')
# appended to a documented command: the tiny run of tests/helpers.py, 128 px throughout
TINY = {
    'tools/train.py': [*TINY_SIZE, '--cfg-options', *OPTIONS],
    'tools/test.py': [*TINY_SIZE, '--bootstrap', '0', '--cfg-options',
                      'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'],
    'tools/export_onnx.py': [*TINY_SIZE, '--cfg-options',
                             f'model.backbone.img_size={TINY_SIZE[1]}'],
}


def _bash(script: str, variables: dict, cwd) -> str:
    return subprocess.run(['bash', '-c', script], cwd=cwd, env={**os.environ, **variables},
                          capture_output=True, text=True, check=True).stdout


def _main(script: str):
    if script.startswith('tools/'):
        return tool_main(script[len('tools/'):-len('.py')])
    from data_prep.masks_to_coco import main
    assert script == 'data_prep/masks_to_coco.py', script
    return main


@pytest.mark.slow
def test_the_documented_recipe_runs(tmp_path, monkeypatch, capsys):
    data = tmp_path / 'my_dataset'
    write_shapes(data)
    scratch = tmp_path / 'checkout'
    shutil.copytree(ROOT / 'configs', scratch / 'configs')
    monkeypatch.chdir(scratch)
    variables, ran = {}, []
    for _, line in shell_lines(DOC):
        assignment = re.match(r'(\w+)=', line)
        if assignment:
            name = assignment[1]
            variables[name] = str(data) if name == 'DATA' else _bash(
                f'{line}\nprintf %s "${name}"', variables, scratch)
            continue
        words = _bash(f"printf '%s\\0' {line}", variables, scratch).split('\0')[:-1]
        tool = TOOL.fullmatch(words[1]) if len(words) > 1 else None
        if words[0].endswith('python') and tool:
            capsys.readouterr()
            _main(tool[0])(words[2:] + TINY.get(tool[0], []))
            printed = capsys.readouterr().out
            ran.append(tool[0])
            if tool[0] == 'data_prep/masks_to_coco.py':
                classes = re.search(r'metainfo = dict\(classes=(\(.*\))\)', printed)[1]
        else:
            subprocess.run(words, cwd=scratch, check=True)
            ran.append(words[0])
        if words[0] == 'cp':  # the doc's next step in words: set the classes printed above
            config = scratch / variables['CONFIG']
            config.write_text(re.sub(r'classes=\([^)]*\)', f'classes={classes}',
                                     config.read_text()))
    assert ran == ['data_prep/masks_to_coco.py', 'cp', 'tools/train.py', 'tools/test.py',
                   'tools/export_onnx.py', 'tools/infer_onnx.py']
    assert classes == repr(CLASSES)
    work = scratch / variables['WORK']
    assert list(work.glob('test_*/metrics.json'))
    from pennfudan_vit.deploy.runtime import OnnxDetector
    assert OnnxDetector(str(work / 'model.onnx')).meta.class_names == list(CLASSES)
    painted = sorted(p.stem for p in (work / 'predictions' / 'vis').iterdir())
    assert painted == sorted(p.stem for p in (data / 'images').iterdir())
