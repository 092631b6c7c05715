"""The demo page (tools/demo_app.py, pennfudan_vit.deploy.demo_page): its table, its
one-line errors before any work, its torch-free ONNX path, and the page itself in
headless Chromium."""
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from helpers import CPU_CONFIG, ROOT, tool_main
from pennfudan_vit.deploy.demo_page import DemoPage, detection_rows, draw_examples


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_table_rows_highest_score_first():
    masks = np.zeros((3, 20, 30), bool)
    masks[0, :2, :3], masks[1, :4, :5], masks[2, 0, 0] = True, True, True
    pred = dict(boxes=np.array([[1.04, 2, 3, 4], [5, 6, 7.26, 8], [0, 0, 1, 1]], np.float32),
                scores=np.array([0.4, 0.91234, 0.4], np.float32),
                labels=np.array([0, 1, 0]), masks=masks)
    rows = detection_rows(pred, ('person', 'cyclist'))
    assert rows == [[1, 'cyclist', 0.912, 5.0, 6.0, 7.3, 8.0, 20],
                    [2, 'person', 0.4, 1.0, 2.0, 3.0, 4.0, 6],
                    [3, 'person', 0.4, 0.0, 0.0, 1.0, 1.0, 1]]
    assert detection_rows({k: v[:0] for k, v in pred.items()}, ('person',)) == []


def test_drawn_examples_are_fixed_distinct_pictures(tmp_path):
    from pennfudan_vit.deploy.image_ops import load_image
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    first, again = (draw_examples(str(tmp_path / d)) for d in 'ab')
    images = [load_image(p) for p in first]
    assert [im.shape for im in images] == [(360, 480, 3)] * 3
    assert not np.array_equal(images[0], images[1])
    assert np.array_equal(images[2], load_image(again[2]))


NO_GRADIO = pytest.mark.skipif(importlib.util.find_spec('gradio') is None,
                               reason='the demo page needs gradio (requirements/demo.txt)')


@pytest.mark.parametrize('args, message', [
    pytest.param(['missing.onnx'], 'MODEL missing.onnx does not exist', id='no model'),
    pytest.param(['{onnx}', '--score-thr', '1.5'], '--score-thr must be in [0, 1], got 1.5',
                 id='threshold'),
    pytest.param(['{onnx}', '--port', '70000'], '--port must be in 1-65535', id='port range'),
    pytest.param(['{onnx}', '--port', '{busy}'], 'port {busy} is in use on 127.0.0.1',
                 id='port in use'),
    pytest.param(['{onnx}', '--host', '203.0.113.7'],
                 '--host 203.0.113.7 is not an address of this', id='foreign host'),
    pytest.param(['{text}'], 'cannot be loaded (InvalidProtobuf', id='not onnx',
                 marks=NO_GRADIO),  # the model loads once gradio is known to be there
    pytest.param(['--config', '{text}', '--checkpoint', 'missing.pth'],
                 '--checkpoint missing.pth does not exist', id='no checkpoint'),
])
def test_one_line_errors_before_the_page_starts(args, message, tmp_path, cpu_onnx, capsys,
                                                 monkeypatch):
    from pennfudan_vit.deploy import demo_page
    monkeypatch.setattr(demo_page, 'serve', lambda *a: pytest.fail('the page was served'))
    text = tmp_path / 'notes.onnx'
    text.write_text('not a model')
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        fill = dict(onnx=cpu_onnx, text=text, busy=port)
        with pytest.raises(SystemExit) as stop:
            tool_main('demo_app')([a.format(**fill) for a in args])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.startswith('error: ') and '\n' not in err, err
    assert message.format(**fill) in err


def test_page_filters_paints_and_names_a_non_image(tmp_path, cpu_onnx):
    pytest.importorskip('gradio', reason='the demo page needs gradio (requirements/demo.txt)')
    from pennfudan_vit.deploy.outputs import keep_above
    from pennfudan_vit.deploy.runtime import OnnxDetector
    page = DemoPage(OnnxDetector(str(cpu_onnx)), 'cpu.onnx')
    example = draw_examples(str(tmp_path))[0]
    painted, rows, status, state, value = page.detect(example, 0.0)
    total = len(state['pred']['scores'])
    assert total > 0 and len(rows) == total and value == example
    assert painted.size == (480, 360) and f'{total} of {total} detections' in status
    thr = float(np.median(state['pred']['scores'])) + 1e-6
    _, rows, status = page.show(state, thr)
    kept = len(keep_above(state['pred'], thr)['scores'])
    assert 0 < kept < total and len(rows) == kept and all(r[2] >= round(thr, 3) for r in rows)
    assert f'{kept} of {total} detections with score >= {thr:.2f}' in status

    bad = tmp_path / 'notes.txt'
    bad.write_text('not an image')
    with pytest.warns(UserWarning, match='notes.txt cannot be read'):
        painted, rows, status, state, value = page.detect(str(bad), 0.0)
    assert (painted, rows, state, value) == (None, [], None, None)
    assert 'notes.txt cannot be read' in status and str(tmp_path) not in status


@pytest.mark.slow   # the page code is the ONNX path's; TorchDetector is tested in tests/tools
def test_config_and_checkpoint_serve_the_pytorch_model(tmp_path, cpu_checkpoint, monkeypatch):
    pytest.importorskip('gradio', reason='the demo page needs gradio (requirements/demo.txt)')
    from pennfudan_vit.deploy import demo_page
    from pennfudan_vit.detector import TorchDetector
    served = []
    monkeypatch.setattr(demo_page, 'serve', lambda *args: served.append(args))
    tool_main('demo_app')(['--config', CPU_CONFIG, '--checkpoint', str(cpu_checkpoint),
                           '--port', str(_free_port()), '--device', 'cpu'])
    (predict, source, host, _, score_thr), = served
    assert isinstance(predict, TorchDetector) and (source, host, score_thr) == (
        'cpu_random.pth', '127.0.0.1', 0.3)
    rows = DemoPage(predict, source).detect(draw_examples(str(tmp_path))[0], 0.0)[1]
    assert rows and rows[0][:2] == [1, 'pedestrian']


@pytest.mark.slow   # a fresh interpreter; tests/deploy/test_fresh_venv.py covers the torch-free install
def test_onnx_page_loads_no_torch(tmp_path, cpu_onnx):
    """The tool's ONNX path up to a built page and one detection, in a fresh interpreter."""
    pytest.importorskip('gradio', reason='the demo page needs gradio (requirements/demo.txt)')
    code = f'''
import importlib.util, json, sys
from pennfudan_vit.deploy import demo_page
rows = []
def build_and_detect(predict, source, host, port, score_thr):
    page = demo_page.DemoPage(predict, source)
    page.build(score_thr, demo_page.draw_examples({str(tmp_path)!r}))
    rows.append(len(page.detect(demo_page.draw_examples({str(tmp_path)!r})[0], 0.0)[1]))
demo_page.serve = build_and_detect
spec = importlib.util.spec_from_file_location('demo_app', 'tools/demo_app.py')
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)
tool.main([{str(cpu_onnx)!r}, '--port', '{_free_port()}'])
print(json.dumps([rows, 'gradio' in sys.modules, sorted(m for m in sys.modules if
                   m.split('.')[0] in ('torch', 'mmcv', 'mmdet', 'mmengine'))]))
'''
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rows, page_built, heavy = json.loads(out.stdout.splitlines()[-1])
    assert rows[0] > 0 and page_built and heavy == [], heavy


def _browser():
    """A headless Chromium driven by selenium, or a skip naming what is missing."""
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver_path = shutil.which('chromedriver')
    try:
        import gradio  # noqa: F401
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ModuleNotFoundError:
        chromium = None
    if not (chromium and driver_path):
        pytest.skip('browser test needs gradio + selenium (requirements/demo.txt) and '
                    'chromium + chromedriver (apt-get install chromium chromium-driver)')
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                '--window-size=1280,1300'):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(driver_path))


def _wait(what, check, timeout=60.0):
    """``check()``'s first truthy value, polled until ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f'waited {timeout:.0f} s for {what}')


def test_page_in_a_browser(tmp_path, cpu_onnx):
    """tools/demo_app.py serves the page; Chromium uploads a non-image (a message), then a
    drawn picture (painted result, one table row per detection), then moves the threshold."""
    browser = _browser()
    from selenium.webdriver.common.by import By
    port, failed = _free_port(), []

    def serve():
        try:
            tool_main('demo_app')([str(cpu_onnx), '--port', str(port), '--score-thr', '0'])
        except BaseException as err:  # noqa: B902 - reported by the test thread
            failed.append(err)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    url = f'http://127.0.0.1:{port}/'

    def served():
        assert not failed, failed
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    try:
        _wait('the page', served)
        browser.get(url)
        status = lambda: browser.find_element(By.ID, 'status').text  # noqa: E731
        upload = lambda path: browser.find_element(  # noqa: E731
            By.CSS_SELECTOR, '#upload input[type=file]').send_keys(str(path))
        bad = tmp_path / 'notes.txt'
        bad.write_text('not an image')
        _wait('the upload field', lambda: browser.find_elements(By.CSS_SELECTOR, '#upload input'))
        upload(bad)
        assert 'notes.txt cannot be read' in _wait('the message', status)
        upload(draw_examples(str(tmp_path))[1])
        text = _wait('the result', lambda: 'detections' in status() and status())
        kept, total = (int(n) for n in text.split(': ', 1)[1].split(' detections')[0]
                       .split(' of '))
        assert 0 < kept == total, text
        # the table renders the rows in view: the first ones, ranked by score
        rows = lambda: [row.text.split('\n') for row in browser.find_elements(  # noqa: E731
            By.CSS_SELECTOR, '#detections [role=row]')][1:]  # less the header
        first = _wait('table rows', rows)[0]
        assert first[:2] == ['1', 'pedestrian'] and len(first) == 8, first
        assert browser.find_element(By.CSS_SELECTOR, '#result img').get_attribute('src')
        shot = tmp_path / 'demo_page.png'   # the painted result and its table
        browser.save_screenshot(str(shot))
        print(f'screenshot: {shot}')
        box = browser.find_element(By.CSS_SELECTOR, '#score_thr input[type=number]')
        box.clear()
        box.send_keys('1\t')
        _wait('the threshold', lambda: f'0 of {total} detections with score >= 1.00' in status())
        _wait('an empty table', lambda: not rows())
    finally:
        browser.quit()
        import gradio
        gradio.close_all(verbose=False)
        server.join(30)
    assert not server.is_alive() and not failed, failed
