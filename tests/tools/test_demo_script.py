"""``make demo`` (tools/demo_cpu.sh) stops with a non-zero status when a step fails."""
import os
import stat
import subprocess

from helpers import ROOT

FAKE_PYTHON = '''#!/usr/bin/env bash
# stands in for the interpreter: every tool succeeds but the one named in $FAIL_TOOL
case "$1" in *"$FAIL_TOOL") echo "Traceback: $1 broke" >&2; exit 3;; esac
case "$1" in tools/test.py) mkdir -p "$WORK/test_1" && echo '{}' > "$WORK/test_1/metrics.json";; esac
exit 0
'''


def _demo(tmp_path, fail_tool: str) -> subprocess.CompletedProcess:
    data, work = tmp_path / 'data', tmp_path / 'work'
    (data / 'annotations').mkdir(parents=True)
    (data / 'annotations' / 'instances_test.json').write_text('{}')  # converted already
    work.mkdir()
    (work / 'epoch_1.pth').write_bytes(b'')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    fake = tmp_path / 'python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PY=str(fake), DATA=str(data), WORK=str(work), FAIL_TOOL=fail_tool)
    return subprocess.run(['bash', 'tools/demo_cpu.sh'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_demo_fails_when_the_test_step_fails(tmp_path):
    proc = _demo(tmp_path, 'tools/test.py')
    assert proc.returncode != 0
    assert 'test failed' in proc.stderr and 'broke' in proc.stderr
    assert '4/5 curves' not in proc.stdout


def test_demo_fails_when_training_fails(tmp_path):
    proc = _demo(tmp_path, 'tools/train.py')
    assert proc.returncode == 3
    assert '3/5 test' not in proc.stdout


def test_demo_names_its_outputs_first(tmp_path):
    proc = _demo(tmp_path, 'none-fails')
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert str(tmp_path / 'work') in first and str(tmp_path / 'data') in first
