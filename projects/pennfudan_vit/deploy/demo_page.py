"""The demo page: a Gradio app around any predictor (an exported ``.onnx`` file through
:class:`~pennfudan_vit.deploy.runtime.OnnxDetector`, or the PyTorch model): upload an
image or pick a drawn example, get the painted result, a table of the detections and a
score-threshold slider.

Gradio is imported only by the functions that build and serve the page, so the other
pieces (table, port check, examples) load without it; nothing here loads torch.
"""
import errno
import os.path as osp
import random
import socket
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..errors import UserError
from .image_ops import load_image
from .outputs import Prediction, Predictor, keep_above, paint

TABLE_HEADERS = ['#', 'class', 'score', 'x1', 'y1', 'x2', 'y2', 'mask area (px)']
# what the page keeps of one upload, so that moving the slider repaints without inference
State = Optional[dict]


def detection_rows(pred: Prediction, class_names: Sequence[str]) -> List[list]:
    """One table row per instance, highest score first: rank, class, score, box x1 y1 x2 y2
    (pixels of the image), mask area in pixels."""
    rows = []
    for rank, i in enumerate(np.argsort(-pred['scores'], kind='stable'), 1):
        box = [round(float(v), 1) for v in pred['boxes'][i]]
        rows.append([rank, class_names[int(pred['labels'][i])],
                     round(float(pred['scores'][i]), 3), *box, int(pred['masks'][i].sum())])
    return rows


def check_port(host: str, port: int) -> None:
    """A :class:`UserError` unless a server could listen on ``host:port`` now."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise UserError(f'--host {host} is not an address ({err.strerror}): give an address '
                        'of this machine, e.g. 127.0.0.1 or 0.0.0.0') from err
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # as uvicorn binds: a port left in TIME_WAIT is free, one with a listener is not
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            fixes = {errno.EADDRINUSE: f'port {port} is in use on {host}: stop what listens '
                                       'there or pass another --port',
                     errno.EACCES: f'port {port} needs administrator rights: pass --port '
                                   '1024 or above',
                     errno.EADDRNOTAVAIL: f'--host {host} is not an address of this machine: '
                                          'give 127.0.0.1 or 0.0.0.0'}
            if err.errno not in fixes:
                raise
            raise UserError(fixes[err.errno]) from err


def _person(draw: ImageDraw.ImageDraw, x: float, feet: float, height: float,
            coat: Tuple[int, int, int], legs: Tuple[int, int, int], stride: float) -> None:
    """A walking figure standing on ``feet``: head, coat, arms and legs of one height."""
    u = height / 8  # a figure is about eight heads tall
    hip, shoulder = feet - 4 * u, feet - 6.8 * u
    for dx in (-stride, stride):
        draw.line([(x, hip), (x + dx * u, feet)], fill=legs, width=max(2, int(0.55 * u)))
    draw.polygon([(x - 0.9 * u, shoulder), (x + 0.9 * u, shoulder), (x + 1.1 * u, hip + 0.6 * u),
                  (x - 1.1 * u, hip + 0.6 * u)], fill=coat)
    for dx in (-1.5, 1.5):
        draw.line([(x + dx * 0.55 * u, shoulder + 0.2 * u), (x + dx * u, hip + 0.3 * u)],
                  fill=coat, width=max(2, int(0.4 * u)))
    draw.ellipse([x - 0.5 * u, shoulder - 1.15 * u, x + 0.5 * u, shoulder - 0.05 * u],
                 fill=(224, 182, 150))


def draw_example(seed: int, size: Tuple[int, int] = (480, 360)) -> Image.Image:
    """A drawn street scene (sky, houses with windows, pavement) with a few walking
    figures: a picture to try the page on that is no photograph and no dataset image."""
    rng = random.Random(seed)
    w, h = size
    sky = np.linspace((150, 190, 230), (215, 228, 240), int(h * 0.45)).astype(np.uint8)
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:len(sky)] = sky[:, None]
    canvas[len(sky):] = (120, 120, 118)  # road
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    ground = int(h * 0.62)
    x = -rng.randint(0, 30)
    while x < w:  # a row of houses
        bw, bh = rng.randint(60, 120), rng.randint(int(h * 0.25), int(h * 0.5))
        wall = tuple(rng.randint(120, 200) for _ in range(3))
        draw.rectangle([x, ground - bh, x + bw, ground], fill=wall, outline=(70, 60, 60))
        for wy in range(ground - bh + 10, ground - 30, 26):
            for wx in range(x + 8, x + bw - 18, 22):
                draw.rectangle([wx, wy, wx + 12, wy + 14], fill=(60, 80, 110))
        x += bw + rng.randint(0, 12)
    draw.rectangle([0, ground, w, int(h * 0.8)], fill=(170, 165, 155))  # pavement
    draw.line([(0, int(h * 0.8)), (w, int(h * 0.8))], fill=(90, 90, 90), width=3)
    figures = sorted((rng.uniform(0.62, 0.95) * h, rng.uniform(0.1, 0.9) * w)
                     for _ in range(rng.randint(2, 4)))
    for feet, fx in figures:  # the far ones first, so that near ones overlap them
        coat = tuple(rng.randint(20, 200) for _ in range(3))
        _person(draw, fx, feet, h * (0.25 + 0.45 * (feet / h - 0.6)), coat,
                (40, 40, 60), rng.uniform(0.3, 0.8))
    return img.filter(ImageFilter.GaussianBlur(0.8))


def draw_examples(folder: str, count: int = 3) -> List[str]:
    """``count`` drawn scenes as PNGs in ``folder``; their paths."""
    paths = []
    for seed in range(count):
        path = osp.join(folder, f'drawn_street_{seed + 1}.png')
        draw_example(seed).save(path)
        paths.append(path)
    return paths


class DemoPage:
    """The page's handlers: one inference per upload, the threshold applied afterwards by
    the one score filter of the inference tools (:func:`.outputs.keep_above`)."""

    def __init__(self, predict: Predictor, source: str) -> None:
        self.predict, self.source = predict, source

    def detect(self, path: Optional[str], score_thr: float):
        """(painted image, table rows, status text, state, upload value) for an uploaded
        file; a file that is no readable image gets a message, and the upload is cleared."""
        if not path:
            return None, [], '', None, None
        name = osp.basename(path)
        try:
            image = load_image(path)
        except UserError as err:
            import gradio as gr
            message = str(err).replace(path, name)
            gr.Warning(message)
            return None, [], f'**Not an image:** {message}', None, None
        start = time.perf_counter()
        pred = self.predict(image)
        state = dict(image=image, pred=pred, name=name, seconds=time.perf_counter() - start)
        return (*self.show(state, score_thr), state, path)

    def show(self, state: State, score_thr: float):
        """(painted image, table rows, status text) of a kept prediction at ``score_thr``."""
        if state is None:
            return None, [], ''
        pred = keep_above(state['pred'], score_thr)
        painted = paint(state['image'], pred, self.predict.class_names, self.predict.palette)
        status = (f'**{state["name"]}**: {len(pred["scores"])} of '
                  f'{len(state["pred"]["scores"])} detections with score >= {score_thr:.2f} '
                  f'(inference {state["seconds"] * 1000:.0f} ms, {self.source})')
        return painted, detection_rows(pred, self.predict.class_names), status

    def build(self, score_thr: float, examples: Sequence[str]):
        """The ``gradio.Blocks`` of the page."""
        import gradio as gr
        classes = ', '.join(self.predict.class_names)
        with gr.Blocks(title='pennfudan-vit demo', analytics_enabled=False) as page:
            gr.Markdown(f'## Pedestrian instance segmentation\nModel: `{self.source}` '
                        f'(classes: {classes}). Upload an image or pick a drawn example.')
            state = gr.State(None)
            with gr.Row():
                with gr.Column():
                    upload = gr.File(label='Image', type='filepath', elem_id='upload')
                    slider = gr.Slider(0, 1, value=score_thr, step=0.01, elem_id='score_thr',
                                       label='Score threshold')
                    drawn = gr.Examples([[p] for p in examples], inputs=[upload],
                                        label='Drawn examples (no photographs)')
                with gr.Column():
                    painted = gr.Image(label='Result', type='pil', format='png',
                                       interactive=False, elem_id='result',
                                       buttons=['download', 'fullscreen'])  # no Hub sharing
                    status = gr.Markdown(elem_id='status')
            table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False,
                                 label='Detections', elem_id='detections')
            shown = [painted, table, status]
            run = dict(fn=self.detect, inputs=[upload, slider],
                       outputs=[*shown, state, upload])
            upload.upload(**run)
            drawn.load_input_event.then(**run)
            upload.clear(lambda: (None, [], '', None), outputs=[*shown, state])
            slider.change(self.show, [state, slider], shown, trigger_mode='always_last',
                          show_progress='hidden')
        return page


def serve(predict: Predictor, source: str, host: str, port: int, score_thr: float) -> None:
    """Build the page with drawn examples (in a temporary folder, removed at the end) and
    serve it on ``host:port`` until interrupted."""
    page = DemoPage(predict, source)
    with tempfile.TemporaryDirectory(prefix='pennfudan_demo_') as folder:
        app = page.build(score_thr, draw_examples(folder))
        app.launch(server_name=host, server_port=port, allowed_paths=[folder],
                   footer_links=[], show_error=False)
