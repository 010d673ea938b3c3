"""Draw page: strokes drawn with synthesized mouse events update the output, undo/redo, keyboard shortcuts, loading a
corrupt image, sketch from photo in the model's style, label-map palettes, CycleGAN models, saving."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from engine.draw import fit_square
from engine.imageio import load_image
from engine.library import model_meta, save_model
from engine.models import get_model
from engine.sketch import SketchStyle, make_sketch

PALETTE = [[10, 20, 160], [200, 30, 30], [30, 200, 60], [240, 240, 0]]


def _save_unet(home, mid, **extra):
    torch.manual_seed(0)
    net = get_model("unet_128", ngf=4, norm="batch", use_dropout=True)
    meta = model_meta(id=mid, name=mid, family="pix2pix", task="translate", arch="unet_128",
                      arch_kwargs={"ngf": 4, "norm": "batch", "use_dropout": True}, direction="AtoB",
                      description="a small random pix2pix generator for tests", image_size=128, **extra)
    save_model(home / "models" / mid / "model.safetensors", net, meta)
    return mid


@pytest.fixture
def sketch_model(_isolated_home):
    style = SketchStyle(style="canny", low=30, high=90).to_dict()
    return _save_unet(_isolated_home, "tiny-sketch", input_kind="sketch", sketch=style, norm_mode="eval")


@pytest.fixture
def label_model(_isolated_home):
    return _save_unet(_isolated_home, "tiny-labels", input_kind="label", palette=PALETTE, norm_mode="train")


def draw_page(window, qtbot, model_id):
    page = window.show_page("draw")
    page.select_model(model_id)
    assert page.picker.listed().id == model_id  # the entry (its fast version may be what runs)
    # the model's first render is on screen (for a blank sketch canvas: the empty state)
    qtbot.waitUntil(lambda: page.renderer.settled, timeout=30000)
    return page


def stroke(qtbot, canvas, points):
    """Press, move through, release: the points are fractions of the canvas."""
    n = canvas.canvas_size
    pts = [canvas.to_widget(QPointF(x * n, y * n)).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=pts[-1])


def settle(qtbot, page):
    qtbot.waitUntil(lambda: not page.renderer.busy and not page.renderer._dirty, timeout=30000)


def test_strokes_update_the_output_and_undo_redo(window, qtbot, sketch_model):
    page = draw_page(window, qtbot, sketch_model)
    canvas = page.canvas
    assert canvas.canvas_size == 128 and canvas.is_blank()
    settle(qtbot, page)
    # nothing drawn yet: the empty state with its hint, not the model's texture for a white page
    assert page.result is None and page.output.pixmap() is None and "Draw on the left" in page.output.placeholder
    assert not page.save_result_btn.isEnabled()
    assert page.norm_combo.isVisible() and page.norm_combo.currentData() == "eval"
    with qtbot.waitSignal(page.renderer.strokeRendered, timeout=30000) as sig:
        stroke(qtbot, canvas, [(0.2, 0.2), (0.5, 0.5), (0.8, 0.3)])
    settle(qtbot, page)
    drawn = canvas.array()
    assert (drawn[:, :, 0] < 100).sum() > 50  # a dark line on the canvas
    assert drawn[64, 64].max() < 100  # it passes through the centre
    assert page.result is not None and page.output.pixmap() is not None  # the output follows the drawing
    assert page.save_result_btn.isEnabled()
    assert sig.args[0] >= 0 and "after the stroke" in page.latency_label.text()
    assert page.undo_btn.isEnabled() and not page.redo_btn.isEnabled()
    after_stroke = page.result.copy()
    # Ctrl+Z: blank canvas and the empty state again; Ctrl+Shift+Z: the stroke and its result are back
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)
    assert canvas.is_blank() and page.redo_btn.isEnabled()
    settle(qtbot, page)
    assert page.result is None and page.output.pixmap() is None and not page.save_result_btn.isEnabled()
    qtbot.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert np.array_equal(canvas.array(), drawn)
    settle(qtbot, page)
    assert np.array_equal(page.result, after_stroke)
    # clear is undoable too
    page.clear_btn.click()
    assert canvas.is_blank()
    page.undo_btn.click()
    assert np.array_equal(canvas.array(), drawn)


def test_brush_and_eraser_shortcuts(window, qtbot, sketch_model):
    page = draw_page(window, qtbot, sketch_model)
    canvas = page.canvas
    canvas.setFocus()
    size = canvas.brush_size
    qtbot.keyClick(canvas, Qt.Key_BracketRight)
    qtbot.keyClick(canvas, Qt.Key_BracketRight)
    assert canvas.brush_size > size and page.tools.size_spin.value() == canvas.brush_size
    qtbot.keyClick(canvas, Qt.Key_BracketLeft)
    assert canvas.brush_size < size + 2
    page.tools.set_brush_size(6)
    stroke(qtbot, canvas, [(0.1, 0.5), (0.9, 0.5)])
    assert canvas.array()[64, 64].max() < 100
    qtbot.keyClick(canvas, Qt.Key_E)
    assert canvas.eraser and page.tools.eraser_btn.isChecked()
    page.tools.set_brush_size(12)
    stroke(qtbot, canvas, [(0.1, 0.5), (0.9, 0.5)])
    assert canvas.is_blank()
    qtbot.keyClick(canvas, Qt.Key_B)
    assert not canvas.eraser
    settle(qtbot, page)


def test_loading_a_corrupt_image_keeps_the_canvas(window, qtbot, sketch_model, tmp_path):
    page = draw_page(window, qtbot, sketch_model)
    stroke(qtbot, page.canvas, [(0.3, 0.3), (0.7, 0.7)])
    before = page.canvas.array()
    undo_depth = len(page.canvas._undo)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with qtbot.waitSignal(page.load_path(str(bad)).finished, timeout=10000):
        pass
    assert np.array_equal(page.canvas.array(), before) and len(page.canvas._undo) == undo_depth
    assert page.problems.isVisible() and any("broken.png" in t for t in page.problems.texts())
    settle(qtbot, page)


def test_load_image_and_sketch_from_photo_in_the_models_style(window, qtbot, sketch_model, samples, tmp_path):
    page = draw_page(window, qtbot, sketch_model)
    photo = samples / "chelsea.png"
    with qtbot.waitSignal(page.sketch_from_path(str(photo)).finished, timeout=10000):
        pass
    want = make_sketch(fit_square(load_image(photo).rgb, 128), SketchStyle(style="canny", low=30, high=90))
    assert np.array_equal(page.canvas.array(), want)
    settle(qtbot, page)
    # a picture loaded as it is (square centre crop at the canvas size); undo returns to the sketch
    with qtbot.waitSignal(page.load_path(str(samples / "coffee.png")).finished, timeout=10000):
        pass
    assert np.array_equal(page.canvas.array(), fit_square(load_image(samples / "coffee.png").rgb, 128))
    page.canvas.undo()
    assert np.array_equal(page.canvas.array(), want)
    settle(qtbot, page)
    # save sketch and result
    with qtbot.waitSignal(page.save_sketch_to(str(tmp_path / "s.png")).finished, timeout=10000):
        pass
    with qtbot.waitSignal(page.save_result_to(str(tmp_path / "r.png")).finished, timeout=10000):
        pass
    assert np.array_equal(load_image(tmp_path / "s.png").rgb, want)
    assert np.array_equal(load_image(tmp_path / "r.png").rgb, page.result)


def test_label_map_model_paints_with_its_palette(window, qtbot, label_model):
    page = draw_page(window, qtbot, label_model)
    colors = {tuple(c) for c in PALETTE}
    assert page.tools.palette_box.isVisible() and not page.tools.color_btn.isVisible()
    assert len(page.tools.palette_group.buttons()) == 4
    assert tuple(page.canvas.array()[0, 0]) == tuple(PALETTE[0])  # background = first class
    assert page.norm_combo.currentData() == "train"
    page.tools.palette_group.button(2).click()
    page.tools.set_brush_size(9)
    stroke(qtbot, page.canvas, [(0.2, 0.2), (0.8, 0.7)])
    used = {tuple(c) for c in page.canvas.array().reshape(-1, 3)}
    assert used == {tuple(PALETTE[0]), tuple(PALETTE[2])} and used <= colors  # no antialiasing blends
    settle(qtbot, page)


def test_cyclegan_model_as_a_one_way_translator(window, qtbot, tiny_model_id):
    page = draw_page(window, qtbot, tiny_model_id)
    assert page.canvas.canvas_size == 256 and not page.norm_combo.isVisible()
    first = page.result.copy()
    stroke(qtbot, page.canvas, [(0.1, 0.9), (0.9, 0.1)])
    settle(qtbot, page)
    assert page.result.shape == (256, 256, 3) and not np.array_equal(page.result, first)


def test_slow_model_never_freezes_the_canvas_and_shows_the_latest_drawing(window, qtbot, sketch_model, monkeypatch):
    import time

    page = draw_page(window, qtbot, sketch_model)
    real = page.live.render
    calls = []

    def slow(req):
        calls.append(req.stamp)
        time.sleep(0.4)
        return real(req)

    monkeypatch.setattr(page.live, "render", slow)
    changes = []
    page.canvas.changed.connect(lambda: changes.append(1))
    for i in range(3):
        before = page.canvas.array()
        t = time.perf_counter()
        stroke(qtbot, page.canvas, [(0.1 + 0.1 * i, 0.1 + 0.02 * k) for k in range(12)])
        assert time.perf_counter() - t < 0.4  # the GUI thread never waited for a render
        assert not np.array_equal(page.canvas.array(), before)  # drawn at once
    settle(qtbot, page)
    assert len(calls) < len(changes) / 3  # requests were coalesced, not one per mouse move
    final = page.canvas.array()
    from engine.draw import RenderRequest

    want = real(RenderRequest(sketch_model, final, 0, "eval")).rgb
    assert np.array_equal(page.result, want)  # what is shown is the translation of the final drawing


def test_the_draw_benchmark_measures_the_real_page_from_a_blank_canvas(window, qtbot, qapp, sketch_model,
                                                                      monkeypatch):
    """bench_draw.measure (also bench_compress --draw) starts on an empty canvas, which shows no result now."""
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    sys.modules.pop("bench_draw", None)
    import bench_draw

    page = window.show_page("draw")
    res = bench_draw.measure(qapp, page, sketch_model, 1)
    assert res["model"] == sketch_model and res["size"] == 128
    assert res["quick_stroke_ms"]["n"] == 1 and res["slow_stroke_ms"]["n"] == 1 and res["engine_render_ms"]["n"] >= 3
    assert page.result is not None  # the strokes' result is on screen


def test_a_model_of_another_kind_keeps_the_drawing_aside_and_gives_it_back(window, qtbot, sketch_model,
                                                                          label_model):
    """Choosing a label-map model after drawing a sketch used to erase the sketch, with no undo."""
    page = draw_page(window, qtbot, sketch_model)
    stroke(qtbot, page.canvas, [(0.2, 0.2), (0.8, 0.8)])
    sketch = page.canvas.array()
    assert not page.canvas.is_blank()
    page.select_model(label_model)
    assert tuple(page.canvas.array()[0, 0]) == tuple(PALETTE[0]) and "sketch is kept" in page.latency_label.text()
    page.select_model(sketch_model)
    assert np.array_equal(page.canvas.array(), sketch) and "earlier sketch is back" in page.latency_label.text()
    settle(qtbot, page)


def test_quitting_with_an_unsaved_drawing_asks_first(window, qtbot, sketch_model, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    page = draw_page(window, qtbot, sketch_model)
    assert window.close_notes() == []  # a blank canvas: nothing to lose
    stroke(qtbot, page.canvas, [(0.2, 0.2), (0.8, 0.8)])
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    assert window.quit_asking() is False and window.isVisible()
    assert "drawing on the Draw page is not saved" in asked[0]
    (tmp_path / "afile").write_text("x")
    h = page.save_sketch_to(str(tmp_path / "afile" / "mine.png"))  # fails: a file where a folder is needed
    qtbot.waitUntil(lambda: page.problems.count() > 0, timeout=10000)
    assert "afile is a file, where a folder is needed" in page.problems.texts()[-1]
    assert window.close_notes(), "a failed save must not count as saved"
    h = page.save_sketch_to(str(tmp_path / "mine.png"))
    qtbot.waitUntil(lambda: (tmp_path / "mine.png").exists(), timeout=10000)
    qtbot.waitUntil(lambda: window.close_notes() == [], timeout=10000)
    assert h is not None
    settle(qtbot, page)
