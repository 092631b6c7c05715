"""Helpers shared by the tests (importable as `helpers`)."""
import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, List, NamedTuple, Tuple

ROOT = Path(__file__).resolve().parents[1]
CPU_CONFIG = str(ROOT / 'configs' / 'deit-tiny_mrcnn_pennfudan_cpu.py')
# A tiny, deterministic run of the CPU config: 8 train images at 128 px, 2 epochs.
TINY_SIZE = ['--input-size', '128', '128']
TINY_OPTIONS = [
    'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=2', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
    'train_cfg.max_epochs=2', 'randomness.deterministic=True',
    'default_hooks.logger.interval=1',
]


def tool_main(name: str) -> Callable:
    """``main`` of ``tools/<name>.py``, loaded in-process (tools/ is no package)."""
    path = ROOT / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def run_tool(*args, check=True, timeout=600, env=None):
    """Run a tool as its own process from the repo root: only for what a process shows
    (exit codes of a whole run, signals, distributed runs)."""
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc


def make_det_batch(h: int = 64, w: int = 96, n_img: int = 1, with_gt: bool = True):
    """A data batch as mmdet dataloaders yield it (uint8 images, data samples)."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n_img):
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g))
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                        scale_factor=(1., 1.), img_id=0))
        if with_gt:
            masks = torch.zeros(2, h, w, dtype=torch.uint8)
            masks[0, 8:40, 10:30] = 1
            masks[1, 20:60, 50:80] = 1
            gt = InstanceData()
            gt.bboxes = torch.tensor([[10., 8., 30., 40.], [50., 20., 80., 60.]])
            gt.labels = torch.tensor([0, 0])
            gt.masks = BitmapMasks(masks.numpy(), h, w)
            s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


# ------------------------------------------------------ the shell commands of the docs
SHELL_LANGS = {'bash', 'sh', 'shell', 'console'}
TOOL = re.compile(r'(?:\./)?((?:tools|data_prep)/\w+\.(?:py|sh))')
INTERPRETER = re.compile(r'(?:^|/)(?:python[\d.]*|bash|sh)$')
# the line before a fenced block that tests/test_walkthroughs.py runs as written
WALKTHROUGH = '<!-- walkthrough -->'


class ShellBlock(NamedTuple):
    """A fenced shell block: the line number of its fence, whether the line before the
    fence is :data:`WALKTHROUGH`, and its (line number, logical line) pairs."""
    fence: int
    walkthrough: bool
    lines: List[Tuple[int, str]]


def shell_blocks(path: Path) -> Iterator[ShellBlock]:
    """The fenced shell blocks of a Markdown file: continuations joined, console output
    left out."""
    lang, buf, first, previous, block = None, '', 0, '', None
    for no, line in enumerate(path.read_text().splitlines(), 1):
        if lang is None:
            lang = (line[3:].split() or [''])[0] if line.startswith('```') else None
            if lang in SHELL_LANGS:
                block = ShellBlock(no, previous == WALKTHROUGH, [])
            previous = line.strip() or previous
            continue
        if line.strip() == '```':
            if lang in SHELL_LANGS:
                yield block
            lang, previous = None, ''
            continue
        if lang not in SHELL_LANGS or (lang == 'console' and not buf
                                        and not line.startswith('$ ')):
            continue
        if lang == 'console' and not buf:
            line = line[2:]
        first = first or no
        if line.rstrip().endswith('\\'):
            buf += line.rstrip()[:-1] + ' '
            continue
        block.lines.append((first, buf + line))
        buf, first = '', 0


def shell_lines(path: Path) -> Iterator[Tuple[int, str]]:
    """(line number, logical line) of all fenced shell blocks of a Markdown file."""
    for block in shell_blocks(path):
        yield from block.lines


def simple_commands(line: str, variables: dict):
    """Token lists of the simple commands of one line, with the variables set so far in
    this file expanded (``$(...)`` stands for its output: what it echoes, else SUBST)."""
    line = re.sub(r'\$\(([^()]*)\)',
                  lambda m: (re.findall(r'\becho (\S+)', m.group(1)) or ['SUBST'])[0], line)
    line = re.sub(r'\s\d*(?:>>?|<)(?:&\d+|\s*[^\s;&|]+)', ' ', line)  # redirections
    # a usage synopsis: optional [groups] and `...` are left out, the rest must parse
    while re.search(r'(?<!\S)\[[^\[\]]*\]', line):
        line = re.sub(r'(?<!\S)\[[^\[\]]*\]', '', line)
    line = re.sub(r'(?<!\S)\.\.\.(?!\S)', '', line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, cmd = [], []
    for token in [*lexer, ';']:
        if not set(token) <= set('();<>|&'):
            cmd.append(token)
            continue
        while cmd and cmd[0] in ('do', 'then', 'else', 'time', 'export'):
            cmd = cmd[1:]
        if cmd[:1] == ['for'] and len(cmd) > 3:  # the loop variable takes its first value
            variables[cmd[1]] = (expand(cmd[3], variables).split() or [''])[0]
        else:
            cmd = [expand(t, variables) for t in cmd]
            n_set = next((i for i, t in enumerate(cmd) if not re.match(r'\w+=', t)), len(cmd))
            if n_set == len(cmd):
                variables.update(t.split('=', 1) for t in cmd)
            elif cmd[n_set:]:
                commands.append(cmd[n_set:])
        cmd = []
    return commands


def expand(token: str, variables: dict) -> str:
    """``$NAME`` / ``${NAME}`` replaced by its value, or by NAME when the docs set none."""
    return re.sub(r'\$\{(\w+)\}|\$(\w+)',
                  lambda m: variables.get(m[1] or m[2], m[1] or m[2]), token)


def our_call(cmd):
    """(script, its arguments) when ``cmd`` runs one of our tools or make, else None."""
    if cmd[0] == 'make':
        return 'make', cmd[1:]
    for i, token in enumerate(cmd):
        module = cmd[i + 1] if token == '-m' and i + 1 < len(cmd) else ''
        if module.startswith('data_prep.') and INTERPRETER.search(cmd[i - 1]):
            return module.replace('.', '/') + '.py', cmd[i + 2:]
        match = TOOL.fullmatch(token)
        if match and (i == 0 or any(INTERPRETER.search(t) for t in cmd[:i])):
            return match[1], cmd[i + 1:]
    return None


def load_main(script: str) -> Callable:
    """``main`` of a documented script: ``tools/<name>.py`` or a ``data_prep`` module."""
    if script.startswith('tools/'):
        return tool_main(Path(script).stem)
    return importlib.import_module(script[:-3].replace('/', '.')).main
