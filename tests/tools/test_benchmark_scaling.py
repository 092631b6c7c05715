"""tools/benchmark_scaling.py: one size point end to end, the people table from a trained
checkpoint, and the table arithmetic on a record with known figures."""
import json

import pytest

from helpers import CPU_CONFIG, run_tool
from pennfudan_vit.benchmark.scaling import format_people_table, size_row
from pennfudan_vit.errors import UserError


def test_sizes_runs_one_benchmark_per_point(tmp_path, coco_data):
    proc = run_tool('tools/benchmark_scaling.py', 'sizes', CPU_CONFIG, '--sizes', '128',
                    '--out-dir', tmp_path, '--iters', '1', '--threads', '1',
                    '--data-root', coco_data)
    rec = json.loads((tmp_path / 'deit-tiny_mrcnn_pennfudan_cpu_128.json').read_text())
    assert rec['input_size'] == [128, 128] and rec['batch_size'] == 1
    row = proc.stdout.strip().splitlines()[-1]
    assert row.startswith('| deit-tiny_mrcnn_pennfudan_cpu | 128 | 64 |')


def test_size_row_arithmetic(tmp_path):
    rec = dict(config_name='c', input_size=[512, 512], batch_size=2, threads=2,
               max_rss_mib=2048,
               train=dict(sec_per_iter=dict(median=2.0), flops_per_iter=dict(
                   gflops=100.0, fraction_of_matmul_peak=0.25,
                   gflops_by_op={'_scaled_dot_product_flash_attention_for_cpu': 20.0,
                                 'mm': 80.0})),
               infer=dict(latency_ms_batch1=dict(median=300.0), flops_batch1=dict(
                   gflops=30.0, fraction_of_matmul_peak=0.5)))
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(rec))
    row = size_row(str(path))
    assert row['tokens'] == 32 * 32 and row['train_gflops_img'] == 50.0
    assert row['train_attention'] == 0.2 and row['max_rss_gib'] == 2.0
    bad = tmp_path / 'bad.json'
    bad.write_text('{"infer": {}}')
    with pytest.raises(UserError, match='not a tools/benchmark.py'):
        size_row(str(bad))
    proc = run_tool('tools/benchmark_scaling.py', 'sizes', CPU_CONFIG, '--sizes', '100',
                    '--out-dir', tmp_path, check=False)
    assert proc.returncode == 2 and 'multiples of 32' in proc.stderr


def test_people_table_groups_images(tmp_path, coco_data, tiny_checkpoint):
    proc = run_tool('tools/benchmark_scaling.py', 'people', CPU_CONFIG, tiny_checkpoint,
                    '--images', '2', '--threads', '1', '--data-root', coco_data)
    rows = [r for r in proc.stdout.splitlines() if r.startswith('| ') and r[2].isdigit()]
    assert [r.split('|')[1].strip() for r in rows] == ['1', '2', '3-4', '5+']
    assert sum(int(r.split('|')[2]) for r in rows) == 17         # every test image
    assert sum(int(r.split('|')[5]) for r in rows) == 2          # --images train steps
    table = format_people_table(dict(infer=[dict(people=1, detections=3, ms=10.0),
                                            dict(people=6, detections=9, ms=30.0)],
                                     train=[dict(people=2, s=1.5)]))
    assert '| 1 | 1 | 10 | 3.0 | 0 | nan |' in table and '| 5+ | 1 | 30 | 9.0 |' in table
