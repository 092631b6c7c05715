"""The walkthroughs of the docs run as written: every shell block that follows a
``<!-- walkthrough -->`` line, in page order, line by line, in a folder laid out as the
repository after ``make demo`` (the configs and tools, ``data/pennfudan``, the best
checkpoint in ``work_dirs/demo_cpu/``), with a tiny trained model and a few test images
in place of the real ones.

Our tools run in this process through their ``main(argv)``, with the words bash expands
from the line (variables, ``$(...)``, globs); every other command (``mkdir -p``, ``ls``,
``VAR=$(...)``) runs in bash. Setting up another environment (``-m venv``, ``pip
install``) is left to the slow tests/deploy/test_fresh_venv.py.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

from helpers import ROOT, WALKTHROUGH, load_main, our_call, shell_blocks, simple_commands

DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
# the pages that walk a reader through inference, deployment and evaluation
GUIDES = ('README.md', 'docs/deploy.md', 'docs/evaluation.md')
N_IMAGES = 2  # test images of the walkthroughs' data/pennfudan
SETUP = re.compile(r'(?:^|\s)-m\s+venv\b|(?:^|[\s/])pip3?\s+install\b')
FOR = re.compile(r'for\s+(\w+)\s+in\s+(.*?);\s*do\b\s*(.*)')
REDIRECTION = re.compile(r'\s\d*(?:>>?|<)')
VARS = '\n@@variables@@\n'  # what bash prints before the values of a line's assignments


def walkthroughs():
    found = []
    for path in DOCS:
        blocks = [b for b in shell_blocks(path) if b.walkthrough]
        if blocks:
            found.append(pytest.param(blocks, id=str(path.relative_to(ROOT))))
    return found


WALKTHROUGHS = walkthroughs()


def split_commands(line: str) -> List[str]:
    """The commands of one line, split at ``&&`` and ``;`` outside quotes and ``$(...)``,
    without a trailing comment."""
    parts, current, quote, depth, i = [], '', '', 0, 0
    while i < len(line):
        char, step = line[i], 1
        if quote:
            quote = '' if char == quote else quote
        elif char in '\'"':
            quote = char
        elif line.startswith('$(', i):
            depth, step = depth + 1, 2
        elif char == ')' and depth:
            depth -= 1
        elif not depth and char == '#' and (not current or current[-1].isspace()):
            break
        elif not depth and (char == ';' or line.startswith('&&', i)):
            parts.append(current)
            current, i = '', i + (1 if char == ';' else 2)
            continue
        current += line[i:i + step]
        i += step
    return [p.strip() for p in [*parts, current] if p.strip()]


class Walkthrough:
    """Runs the lines of a page's walkthroughs as a reader's shell would, in ``cwd``."""

    def __init__(self, cwd: Path, capsys):
        self.cwd, self.capsys, self.variables = cwd, capsys, {}

    def run(self, lines: List[Tuple[int, str]], page: str) -> None:
        i = 0
        while i < len(lines):
            no, line = lines[i]
            i += 1
            loop = FOR.fullmatch(line.strip())
            if not loop:
                for command in split_commands(line):
                    self.command(f'{page}:{no}', command)
                continue
            body = [(no, loop[3])] if loop[3] else []
            if re.search(r'(?:^|;)\s*done$', loop[3]):  # the whole loop on one line
                body = [(no, re.sub(r';?\s*done$', '', loop[3]))]
            else:
                while i < len(lines) and lines[i][1].strip() != 'done':
                    body.append(lines[i])
                    i += 1
                assert i < len(lines), f'{page}:{no}: a loop without its `done`'
                i += 1
            for value in self.words(loop[2], f'{page}:{no}'):
                self.variables[loop[1]] = value
                self.run(body, page)

    def bash(self, command: str, where: str, then: str = '') -> str:
        """The output of ``command`` (and ``then``) in bash, or the test fails."""
        proc = subprocess.run(['bash', '-c', f'set -eo pipefail\n{command}\n{then}'],
                              cwd=self.cwd, env={**os.environ, **self.variables},
                              capture_output=True, text=True, timeout=120)
        if proc.returncode:
            pytest.fail(f'{where}: fails as written (exit {proc.returncode}): {command}\n'
                        f'{proc.stderr[-2000:]}', pytrace=False)
        return proc.stdout

    def words(self, text: str, where: str) -> List[str]:
        """The words bash makes of ``text`` here: variables, ``$(...)``, globs, quotes."""
        return self.bash(f"printf '%s\\0' {text}", where).split('\0')[:-1]

    def command(self, where: str, command: str) -> None:
        if SETUP.search(command):
            return
        calls = [our_call(c) for c in simple_commands(command, dict(self.variables))]
        if not any(calls):
            names = re.findall(r'^(?:export\s+)?(\w+)=', command)
            out = self.bash(command, where, f'printf %s {shlex.quote(VARS)}' + ''.join(
                f'\nprintf "%s\\0" "${name}"' for name in names))
            self.variables.update(zip(names, out.split(VARS)[-1].split('\0')))
            return
        script = calls[0][0]
        assert len(calls) == 1 and script.endswith('.py') and not REDIRECTION.search(
            command), f'{where}: a walkthrough runs a python tool alone, as `cmd args`: {command}'
        words = self.words(command, where)
        names = (script, f'./{script}', script[:-3].replace('/', '.'))
        argv = words[next(i for i, w in enumerate(words) if w in names) + 1:]
        self.capsys.readouterr()
        try:
            status = load_main(script)(argv)
        except SystemExit as stop:
            status = stop.code
        out, err = self.capsys.readouterr()
        if status not in (None, 0):
            pytest.fail(f'{where}: exit {status} as written: {command}\n{out[-2000:]}\n'
                        f'{err[-2000:]}', pytrace=False)


@pytest.fixture(scope='module')
def few_images(tmp_path_factory, coco_data) -> Path:
    """``data/pennfudan`` as ``make data`` writes it, cut to the first N_IMAGES test
    images (every split holds them)."""
    out = tmp_path_factory.mktemp('walkthrough') / 'pennfudan'
    coco = json.loads((coco_data / 'annotations' / 'instances_test.json').read_text())
    images = coco['images'][:N_IMAGES]
    ids = {image['id'] for image in images}
    coco = dict(coco, images=images,
                annotations=[a for a in coco['annotations'] if a['image_id'] in ids])
    (out / 'annotations').mkdir(parents=True)
    for split in ('train', 'val', 'test', 'all'):
        (out / 'annotations' / f'instances_{split}.json').write_text(json.dumps(coco))
    (out / 'PNGImages').mkdir()
    for image in images:
        shutil.copy(coco_data / image['file_name'], out / image['file_name'])
    return out


@pytest.fixture
def after_make_demo(tmp_path, few_images, tiny_checkpoint, monkeypatch) -> Path:
    """The working directory of a reader who ran ``make demo``: our configs, tools and
    requirements, ``data/pennfudan`` and ``work_dirs/demo_cpu/best_*.pth``."""
    root = tmp_path / 'repo'
    demo = root / 'work_dirs' / 'demo_cpu'
    demo.mkdir(parents=True)
    (demo / 'best_coco_segm_mAP_epoch_1.pth').symlink_to(tiny_checkpoint)
    for name in ('configs', 'tools', 'requirements'):
        (root / name).symlink_to(ROOT / name)
    (root / 'data').mkdir()
    (root / 'data' / 'pennfudan').symlink_to(few_images)
    monkeypatch.delenv('PENNFUDAN_DATA', raising=False)
    monkeypatch.chdir(root)
    return root


def test_the_guides_have_walkthroughs():
    """A walkthrough whose tag got lost would otherwise go untested without a sound."""
    tagged = {param.id for param in WALKTHROUGHS}
    assert set(GUIDES) <= tagged, f'no {WALKTHROUGH} block in {set(GUIDES) - tagged}'


def test_split_commands():
    assert split_commands('A=$(ls x; ls y) && echo "a;b" ; c # d; e') == [
        'A=$(ls x; ls y)', 'echo "a;b"', 'c']


@pytest.mark.parametrize('blocks', WALKTHROUGHS)
def test_walkthrough_runs_as_written(blocks, after_make_demo, capsys, request):
    page = request.node.callspec.id
    shell = Walkthrough(after_make_demo, capsys)
    for block in blocks:
        shell.run(block.lines, page)
