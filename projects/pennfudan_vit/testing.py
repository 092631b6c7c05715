"""Testing as two calls: :func:`test_config` checks a config and the settings of
``tools/test.py`` (one-line :class:`UserError` before any work), :func:`test` loads the
checkpoint once, runs mmengine's test loop on that model and writes ``metrics.json``
(COCOeval stats and bootstrap intervals). Both run in the calling process, also under
torchrun or srun with ``launcher`` (test files import the module: pytest collects ``test*``).
"""
import os.path as osp
import time
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.dist import get_rank

from .config import check_dataset_files, default_work_dir, load_config, set_input_size
from .detector import load_detector, resolve_device
from .engine.mixed_precision import configure_amp, loop_dtype
from .engine.runner import build_runner, stop_workers
from .errors import UserError
from .evaluation import IOU_TYPES, bootstrap_report
from .fileio import atomic_write_json
from .hardware import cpu_info, describe_cpu


def test_config(config: str, checkpoint: str, work_dir: Optional[str] = None,
                out: Optional[str] = None, show_dir: Optional[str] = None,
                score_thr: float = 0.3, cfg_options: Optional[Dict[str, Any]] = None,
                data_root: Optional[str] = None, input_size: Optional[Sequence[int]] = None,
                launcher: str = 'none', amp: bool = False) -> Config:
    """The config for testing ``checkpoint`` into a fresh ``WORK_DIR/test_<time>/``:
    COCO result files ``results.{bbox,segm}.json``, ``out`` (a .pkl of the raw
    predictions) and ``show_dir`` (painted predictions, inside the test folder);
    ``amp``: the test loop in the device's native mixed precision (as training's)."""
    if not osp.isfile(checkpoint):
        raise UserError(f'checkpoint {checkpoint} does not exist')
    if out and not out.endswith(('.pkl', '.pickle')):
        raise UserError(f'--out must be a .pkl file, got {out}')
    if not 0 <= score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {score_thr}')
    cfg = load_config(config, cfg_options, data_root)
    if input_size:
        set_input_size(cfg, tuple(input_size))
    cfg.launcher = launcher
    if amp:
        if configure_amp(cfg, resolve_device(None), loops=('test_cfg', )) is None:
            print(f'[test] mixed precision: none native here, testing in fp32 '
                  f'({describe_cpu()})', flush=True)
    # a fresh folder per test run: earlier results are never overwritten
    cfg.work_dir = osp.join(default_work_dir(cfg, config, work_dir),
                            time.strftime('test_%Y%m%d_%H%M%S'))
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [
        cfg.test_evaluator]
    for ev in evaluators:
        if ev.get('type') == 'CocoMetric':
            ev['outfile_prefix'] = osp.join(cfg.work_dir, 'results')
    if out:
        evaluators.append(dict(type='DumpDetResults', out_file_path=out))
    cfg.test_evaluator = evaluators
    if show_dir:
        # mmdet joins work_dir/<timestamp>/test_out_dir; an absolute path is kept as is
        cfg.default_hooks.visualization.update(
            draw=True, interval=1, score_thr=score_thr,
            test_out_dir=osp.abspath(osp.join(cfg.work_dir, show_dir)))
    check_dataset_files(cfg, ['test_dataloader'])
    return cfg


def test(cfg: Config, checkpoint: str, bootstrap: int = 1000, seed: int = 0,
         config: Optional[str] = None) -> Optional[dict]:
    """Evaluate ``checkpoint`` with ``cfg`` from :func:`test_config`; print and return the
    report written to ``metrics.json`` (None on ranks other than 0)."""
    config = config or cfg.filename
    model, loaded = load_detector(cfg, checkpoint, config=config)
    runner = build_runner(cfg, model)
    try:
        metrics = runner.test()
    finally:
        stop_workers(runner)
    if get_rank() != 0:
        return None
    coco = next(ev for ev in cfg.test_evaluator if ev.get('type') == 'CocoMetric')
    prefix = coco['outfile_prefix']
    files = {t: f'{prefix}.{t}.json' for t in IOU_TYPES if osp.isfile(f'{prefix}.{t}.json')}
    report = dict(config=config, checkpoint=osp.abspath(checkpoint),
                  train_seed=(loaded.get('meta') or {}).get('seed'),
                  precision=loop_dtype(cfg, 'test_cfg', resolve_device(None)), machine=cpu_info(),
                  metrics={k: float(v) for k, v in metrics.items()}, result_files=files)
    tables = []
    if bootstrap > 0 and files:
        report['bootstrap'], tables = bootstrap_report(coco['ann_file'], files, n=bootstrap,
                                                       seed=seed)
    path = atomic_write_json(osp.join(cfg.work_dir, 'metrics.json'), report)
    print('\n[test] COCOeval over the whole split, 95% bootstrap intervals over its images:')
    print('\n'.join(tables) if tables else '[test] (bootstrap off)')
    print(f'\n[test] metrics: {path}')
    for iou_type, result in files.items():
        print(f'[test] {iou_type} results: {result}')
    painted = (cfg.default_hooks.get('visualization') or {}).get('test_out_dir')
    if painted:
        print(f'[test] painted images: {painted}')
    return report
