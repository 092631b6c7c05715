"""tools/benchmark_scaling.py: one size point end to end, the people table from a trained
checkpoint, and the table arithmetic on a record with known figures."""
import json

import pytest

from helpers import CPU_CONFIG, ROOT, run_tool
from pennfudan_vit.benchmark.scaling import format_people_table, size_row
from pennfudan_vit.errors import UserError

WINDOWED_CONFIG = str(ROOT / 'configs' / 'vit-b-win_mrcnn_pennfudan.py')


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


@pytest.mark.parametrize('config,size', [(CPU_CONFIG, 128), (WINDOWED_CONFIG, 256)])
def test_attention_arithmetic_matches_counted_flops(config, size):
    """The arithmetic's attention + linear FLOPs equal FlopCounterMode's count of the real
    backbone's blocks (global SDPA and SAM's windowed, padded attention)."""
    import torch
    from mmengine.config import Config
    from pennfudan_vit.benchmark.attention_cost import attention_cost, backbone_layout
    from pennfudan_vit.benchmark.utilization import count_flops
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config)
    layout = backbone_layout(cfg)
    backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None, img_size=size))
    backbone.eval()
    side = size // layout['patch']
    # plain ViT blocks take (1, N, d); SAM's take the token grid (1, h, w, d)
    grid = (side, side) if any(layout['windows']) else (side * side, )
    tokens = torch.zeros(1, *grid, layout['dims'])

    def blocks():
        x = tokens
        for layer in backbone.layers:
            x = layer(x)

    with torch.no_grad():
        counted = count_flops(blocks)
    expected = attention_cost(layout, size)
    total = expected['attention_gflops'] + expected['linear_gflops']
    assert counted['gflops'] == pytest.approx(total, rel=0.02)


def test_attention_tool_prints_one_row_per_size():
    proc = run_tool('tools/benchmark_scaling.py', 'attention', CPU_CONFIG, WINDOWED_CONFIG,
                    '--sizes', '512', '1024', '--batch', '8', '--gpu-gib', '1', '24')
    rows = [r for r in proc.stdout.splitlines() if r.startswith('| ') and '---' not in r][1:]
    assert [r.split(' | ')[:2] for r in rows] == [
        ['| deit-tiny_mrcnn_pennfudan_cpu', '512'], ['| deit-tiny_mrcnn_pennfudan_cpu', '1024'],
        ['| vit-b-win_mrcnn_pennfudan', '512'], ['| vit-b-win_mrcnn_pennfudan', '1024']]
    # DeiT-tiny at 1024 px: 3 heads x 4096^2 x 12 blocks x 2 bytes x 8 images = 9 GiB
    assert rows[1].split(' | ')[6:8] == ['9.0', '24 |']


def test_attention_tool_refuses_a_non_vit_config():
    proc = run_tool('tools/benchmark_scaling.py', 'attention',
                    str(ROOT / 'configs' / 'r50-fpn_mrcnn_pennfudan.py'), check=False)
    assert proc.returncode == 2 and 'is not a ViT' in proc.stderr.strip().splitlines()[-1]
    assert 'Traceback' not in proc.stderr
