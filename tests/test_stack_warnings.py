"""A one-iteration train and a test of the CPU config, in this process, show none of the
stack's warnings the plugin silences (pennfudan_vit.stack_warnings), on the console or
in the log; every other warning is still recorded."""
import warnings

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, tool_main
from pennfudan_vit import stack_warnings

ONE_ITERATION = [*TINY_OPTIONS, 'train_dataloader.dataset.indices=2', 'train_cfg.max_epochs=1',
                 'train_cfg.val_interval=2', 'test_dataloader.dataset.indices=2']


def test_train_and_test_show_none_of_the_silenced_warnings(coco_data, tmp_path, capsys):
    work = tmp_path / 'work'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')          # record every warning ...
        stack_warnings.silence_stack_warnings()  # ... but those the plugin's import silences
        tool_main('train')([CPU_CONFIG, '--work-dir', str(work), '--data-root', str(coco_data),
                            *TINY_SIZE, '--cfg-options', *ONE_ITERATION])
        tool_main('test')([CPU_CONFIG, str(work / 'epoch_1.pth'), '--work-dir', str(work),
                           '--data-root', str(coco_data), '--bootstrap', '10', *TINY_SIZE,
                           '--cfg-options', *ONE_ITERATION])
    out, err = capsys.readouterr()
    assert 'Epoch(train) [1][1/1]' in out and '[test] metrics:' in out  # both ran
    silenced = [w for w in caught if stack_warnings.PKG_RESOURCES in str(w.message)]
    assert not silenced, [f'{w.filename}:{w.lineno} {w.message}' for w in silenced]
    logs = [p.read_text() for p in work.glob('*/*.log')]
    assert logs
    for notice in stack_warnings.MMENGINE_NOTICES:
        assert notice not in out + err and not any(notice in log for log in logs), notice
