"""``make demo`` (tools/demo_cpu.sh) stops with a non-zero status when a step fails, keeps
its console to progress and tables (all of the output stays in the work dir) and ends by
placing the run against the published seed runs."""
import os
import stat
import subprocess

from helpers import ROOT

FAKE_PYTHON = '''#!/usr/bin/env bash
# stands in for the interpreter: every tool succeeds but the one named in $FAIL_TOOL, and
# says what a real one would (the test prints no tables with $NO_TABLES set)
echo "$*" >> "$WORK/calls.txt"
case "$1" in *"$FAIL_TOOL") echo "Traceback: $1 broke" >&2; exit 3;; esac
case "$1" in
  tools/train.py) echo 'model = dict(type="MaskRCNN")'
                  echo ' - mmengine - INFO - precision: fp32; CPU: test CPU'
                  echo ' - mmengine - INFO - Checkpoints will be saved to /tmp'
                  echo ' - mmengine - INFO - Epoch(train) [1][50/77]  loss: 2.0'
                  echo ' Average Precision  (AP) @[ IoU=0.50:0.95 ] = 0.100'
                  echo ' - mmengine - INFO - Epoch(val) [1][17/17]  coco/bbox_mAP: 0.1000';;
  tools/test.py) mkdir -p "$WORK/test_1" && echo '{}' > "$WORK/test_1/metrics.json"
                 [ -n "${NO_TABLES:-}" ] || echo "bbox: $WORK/test_1/results.bbox.json";;
esac
exit 0
'''


def _demo(tmp_path, fail_tool: str, **env) -> subprocess.CompletedProcess:
    data, work = tmp_path / 'data', tmp_path / 'work'
    (data / 'annotations').mkdir(parents=True)
    (data / 'annotations' / 'instances_test.json').write_text('{}')  # converted already
    work.mkdir()
    (work / 'epoch_1.pth').write_bytes(b'')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    fake = tmp_path / 'python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PY=str(fake), DATA=str(data), WORK=str(work), FAIL_TOOL=fail_tool,
               **env)
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


def test_demo_fails_when_the_test_output_has_no_tables(tmp_path):
    proc = _demo(tmp_path, 'none-fails', NO_TABLES='1')
    assert proc.returncode == 1
    assert 'no evaluation tables' in proc.stderr and '4/5 curves' not in proc.stdout


def test_demo_shows_progress_keeps_the_log_and_compares_with_the_seeds(tmp_path):
    proc = _demo(tmp_path, 'none-fails')
    assert proc.returncode == 0, proc.stderr
    assert 'Epoch(train) [1][50/77]' in proc.stdout and 'Epoch(val) [1][17/17]' in proc.stdout
    assert 'model = dict' not in proc.stdout and 'Average Precision' not in proc.stdout
    assert 'precision: fp32; CPU: test CPU' in proc.stdout and 'Checkpoints' not in proc.stdout
    log = (tmp_path / 'work' / 'train_output.txt').read_text()
    assert 'model = dict' in log and 'Average Precision' in log and 'Epoch(val)' in log
    calls = (tmp_path / 'work' / 'calls.txt').read_text().splitlines()
    seeds = 'docs/results/deit-tiny_mrcnn_pennfudan_cpu/seeds.json'
    assert calls[-1] == (f'tools/summarize_seeds.py {tmp_path / "work"}/test_1/metrics.json '
                         f'--against {seeds}')
    assert '95% prediction interval' in proc.stdout


def test_demo_fp32_trains_with_fp32_and_the_default_leaves_precision_to_the_config(tmp_path):
    proc = _demo(tmp_path, 'none-fails', FP32='1')
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / 'work' / 'calls.txt').read_text().splitlines()
    train, test = (next(c for c in calls if c.startswith(f'tools/{tool}.py'))
                   for tool in ('train', 'test'))
    assert train.endswith(' --resume --fp32') and '--fp32' not in test
    plain = _demo(tmp_path / 'plain', 'none-fails')
    assert plain.returncode == 0
    calls = (tmp_path / 'plain' / 'work' / 'calls.txt').read_text()
    assert '--fp32' not in calls and '--amp' not in calls
