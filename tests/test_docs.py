"""The docs stay true: every documented command of our tools parses with that tool's own
parser (nothing runs), and every figure of the README's results tables equals a value of
the record its row cites."""
import argparse
import importlib
import importlib.util
import inspect
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from helpers import ROOT, load_main, our_call, shell_lines, simple_commands, tool_main

DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
# launcher -> (python tool, positionals passed on, positionals it takes (the last: a count),
# arguments it adds)
LAUNCHERS = {
    'tools/dist_train.sh': ('train', 1, 1, ['--launcher', 'pytorch']),
    'tools/dist_test.sh': ('test', 2, 1, ['--launcher', 'pytorch']),
    'tools/slurm_train.sh': ('train', 1, 2, ['--launcher', 'slurm']),
    'tools/slurm_test.sh': ('test', 2, 2, ['--launcher', 'slurm']),
}
# a copied command must work on the reader's machine: no dated run folders, no fixed epochs
NOT_PORTABLE = re.compile(r'\d{8}_\d{6}|test_20\d\d|epoch_\d+')
PLACEHOLDER_IN_ANGLES = re.compile(r'<\w+>')  # the shell reads `<time>` as a redirection


def documented_commands():
    found = []
    for path in DOCS:
        variables = {}
        for no, line in shell_lines(path):
            where = f'{path.relative_to(ROOT)}:{no}'
            try:
                calls = [our_call(cmd) for cmd in simple_commands(line, variables)]
            except ValueError as err:  # e.g. an unbalanced quote: fails as its own case
                calls = [(None, [str(err)])]
            found += [pytest.param(where, line, *call, id=where) for call in calls if call]
    return found


COMMANDS = documented_commands()


class _Parsed(Exception):
    """Raised by the patched parser once the arguments parsed: nothing else runs."""


@pytest.fixture
def parse_only(monkeypatch, capsys):
    """``run(main, script, argv)`` -> None when argv parses with the tool's own parser,
    else the parser's message."""
    parse_args, parse_known = argparse.ArgumentParser.parse_args, \
        argparse.ArgumentParser.parse_known_args
    depth = [0]

    def patched_parse_args(self, args=None, namespace=None):
        depth[0] += 1  # parse_args calls parse_known_args: that one must really parse
        try:
            parse_args(self, args, namespace)
        finally:
            depth[0] -= 1
        raise _Parsed

    def patched_parse_known(self, args=None, namespace=None):
        result = parse_known(self, args, namespace)
        if depth[0]:
            return result
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', patched_parse_args)
    monkeypatch.setattr(argparse.ArgumentParser, 'parse_known_args', patched_parse_known)

    def run(main, script, argv):
        monkeypatch.setattr(sys, 'argv', [script, *argv])
        try:
            if inspect.signature(main).parameters:
                main(argv)
            else:  # a tool that reads sys.argv
                main()
        except _Parsed:
            return None
        except SystemExit as stop:
            return f'exit {stop.code}: {capsys.readouterr().err.strip()[-800:]}'
        return 'the tool returned without parsing arguments'

    return run


def mmdet_tool_main(name: str):
    """``main`` of mmdet's shipped tool NAME, found as tools/mmdet_tool.sh finds it."""
    import mmdet
    tools = Path(mmdet.__file__).parent / '.mim' / 'tools'
    found = sorted((p for p in tools.rglob(f'{Path(name).name}.py')
                    if p.as_posix().endswith(f'/{name}.py')), key=lambda p: len(p.parts))
    assert found, f"mmdet ships no tool named '{name}'"
    spec = importlib.util.spec_from_file_location(f'mmdet_tool_{found[0].stem}', found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main, str(found[0])


@pytest.mark.parametrize('where, line, script, argv', COMMANDS)
def test_documented_command_parses(where, line, script, argv, parse_only):
    if script is None:
        pytest.fail(f'{where}: the shell words cannot be split ({argv[0]}): {line}')
    assert not NOT_PORTABLE.search(line), f'{where}: dated folder or fixed epoch in: {line}'
    assert not PLACEHOLDER_IN_ANGLES.search(line.split(' #')[0]), \
        f'{where}: a <placeholder> is a redirection to the shell: {line}'
    if script == 'make':
        targets = set(re.findall(r'^([\w.-]+)\s*:(?!=)', (ROOT / 'Makefile').read_text(),
                                 re.M))
        missing = [t for t in argv if '=' not in t and not t.startswith('-')
                   and t not in targets]
        assert not missing, f'{where}: no make target {missing} in the Makefile: {line}'
        return
    assert (ROOT / script).is_file(), f'{where}: {script} does not exist: {line}'
    if script == 'tools/mmdet_tool.sh':
        main, path = mmdet_tool_main(argv[0])
        error = parse_only(main, path, argv[1:])
    elif script in LAUNCHERS:
        tool, passed, taken, added = LAUNCHERS[script]
        count = argv[passed + taken - 1] if len(argv) >= passed + taken else ''
        assert count.isdigit(), f'{where}: a process count expected, got {count!r}: {line}'
        error = parse_only(tool_main(tool), f'tools/{tool}.py',
                           [*argv[:passed], *added, *argv[passed + taken:]])
    elif script.endswith('.py'):
        error = parse_only(load_main(script), script, argv)
    else:
        return  # other shell scripts take no arguments we could check
    if error:
        pytest.fail(f'{where}: {script} {shlex.join(argv)}\n{error}', pytrace=False)


def test_readme_shows_the_three_commands_and_the_main_tools():
    """The collector sees the README's commands (it would pass vacuously otherwise)."""
    readme = [c.values[2:] for c in COMMANDS if c.id.startswith('README.md:')]
    scripts = {script for script, _ in readme}
    targets = {t for script, argv in readme if script == 'make' for t in argv}
    assert {'setup', 'demo', 'test'} <= targets
    assert {'tools/train.py', 'tools/test.py', 'tools/export_onnx.py',
            'tools/infer_onnx.py', 'tools/dist_train.sh'} <= scripts


# ----------------------------------------------------------- README figures vs records
# a row cites its record as a link, optionally narrowed to the values under one key:
# [seeds.json](docs/results/.../seeds.json#coco/bbox_mAP)
RECORD_LINK = re.compile(r'\]\((docs/results/[^)\s#]+)(?:#([^)\s]+))?\)')
NUMBER = re.compile(r'(?<![\w./-])(-?\d+(?:\.\d+)?)x?(?![\w.%/])')


def readme_table_rows():
    """(line number, cells) of every README table row below a header row."""
    lines = (ROOT / 'README.md').read_text().splitlines()
    for no, line in enumerate(lines, 1):
        if (line.startswith('|') and no >= 3 and lines[no - 2].startswith('|')
                and not re.fullmatch(r'[|\s:-]+', line)):
            yield no, [cell.strip() for cell in line.strip().strip('|').split('|')]


def record_values(path: Path, key: str = '') -> list:
    """The numbers of a JSON (or JSON-lines) record, numeric keys included; with ``key``,
    only those under that key (wherever it occurs) and the key itself."""
    text = path.read_text()
    try:
        docs = [json.loads(text)]
    except ValueError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    is_number = re.compile(r'-?\d+(?:\.\d+)?').fullmatch
    values, subtrees = [float(key)] if is_number(key) else [], []

    def find(node):
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for k, child in children:
            if k == key:
                subtrees.append(child)
            if isinstance(child, (dict, list)):
                find(child)

    def walk(node):
        if isinstance(node, dict):
            values.extend(float(k) for k in node if is_number(k))
            node = list(node.values())
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            values.append(node)

    if key:
        find(docs)
        assert subtrees, f'{path.name} has no key {key!r}'
    walk(subtrees if key else docs)
    return values


RESULT_ROWS = [pytest.param(cells, id=f'README.md:{no}') for no, cells in readme_table_rows()
               if any('.' in n for c in cells for n in NUMBER.findall(c))]


def test_readme_has_results_tables():
    assert len(RESULT_ROWS) >= 4


@pytest.mark.parametrize('cells', RESULT_ROWS)
def test_readme_figure_equals_its_record(cells):
    """Each figure of a row, at its printed precision, is a value of the record it cites."""
    records = [link for cell in cells for link in RECORD_LINK.findall(cell)]
    assert records, f'a row with figures cites no record under docs/results/: {cells}'
    values = []
    for record, key in records:
        assert (ROOT / record).is_file(), f'{record} is not committed'
        values += record_values(ROOT / record, key)
    for cell in cells:
        if RECORD_LINK.search(cell):
            continue
        for number in NUMBER.findall(cell):
            decimals = len(number.partition('.')[2])
            assert any(f'{v:.{decimals}f}' == number for v in values), \
                f'{number} (in "{cell}") is not in {records}'
