"""tools/export_onnx.py: standard operators only, and one-line errors for bad input."""
import onnx
import pytest
import torch

from deploy_helpers import CONFIGS
from helpers import CPU_CONFIG, tool_main
from pennfudan_vit.deploy.export import export_onnx
from pennfudan_vit.errors import UserError

STANDARD_DOMAINS = {'', 'ai.onnx'}


def test_export_uses_standard_operators_only(cpu_onnx):
    model = onnx.load(str(cpu_onnx))
    onnx.checker.check_model(model)
    assert {op.domain for op in model.opset_import} <= STANDARD_DOMAINS
    assert max(op.version for op in model.opset_import) >= 17
    ops = {n.op_type for n in model.graph.node}
    assert {'NonMaxSuppression', 'RoiAlign', 'TopK'} <= ops
    assert {n.domain for n in model.graph.node} <= STANDARD_DOMAINS
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims][2:] == ['height', 'width']


def test_checkpoint_of_another_config_is_one_line(cpu_checkpoint, tmp_path, capsys):
    out = tmp_path / 'main.onnx'
    with pytest.raises(SystemExit) as exit_:
        tool_main('export_onnx')([CONFIGS['main'], str(cpu_checkpoint), '--out', str(out)])
    assert exit_.value.code == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith('error: checkpoint'), errors
    assert 'does not match config' in errors[0] and 'deit-tiny_mrcnn_pennfudan_cpu' in errors[0]
    assert not out.exists()


def test_checkpoint_missing_weights_names_them(cpu_checkpoint, tmp_path):
    state = torch.load(cpu_checkpoint, weights_only=True)['state_dict']
    del state['roi_head.mask_head.conv_logits.weight']
    partial = tmp_path / 'partial.pth'
    torch.save(dict(state_dict=state), partial)
    with pytest.raises(UserError, match='roi_head.mask_head.conv_logits.weight'):
        export_onnx(CPU_CONFIG, str(partial), str(tmp_path / 'x.onnx'), verify=False)


@pytest.mark.parametrize('out,checkpoint,match', [
    ('model.txt', None, 'ending in .onnx'),
    ('absent_dir/model.onnx', None, 'does not exist'),
    ('model.onnx', 'nope.pth', 'checkpoint nope.pth does not exist'),
])
def test_bad_arguments_fail_before_building(tmp_path, out, checkpoint, match):
    with pytest.raises(UserError, match=match):
        export_onnx(CPU_CONFIG, checkpoint, str(tmp_path / out) if '/' not in out
                    else out, verify=False)
