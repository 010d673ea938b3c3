"""Every field of every page comes back after a restart, or none does (issue 18, item 3): each page's form is one
remembered record (``app.form_memory.FormMemory``). For each page the test changes every remembered field, closes the
window, opens a new one on the same settings and checks every field (and what the user sees); a saved value that is
no longer valid (a deleted model or folder, a damaged record) restores nothing and the page says why."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

from app.form_memory import Field, FormMemory
from tests.conftest import make_image
from tests.engine.training_helpers import make_folders

PAGES = ["translate", "draw", "latent", "evaluate", "export", "lab", "train"]


def new_values(name, page, tmp_path, home):
    """A value other than the default for every remembered field of ``page``."""
    if name == "translate":
        return {"model": "vintagify", "speed": "full", "domain": {"stargan-celeba": "Blond_Hair"},
                "faces": {"face2anime": False}, "size_mode": "long", "size_side": 512}
    if name == "draw":
        return {"model": "tiny", "speed": "full", "style": "train", "brush": 17, "pen_color": [200, 30, 40]}
    if name == "latent":
        return {"model": "stylegan-faces64", "psi": 35, "noise": "none", "noise_strength": 150, "first_seed": 100,
                "directions_method": "sefa", "directions_count": 5, "direction_name": "smile", "mix": True,
                "mix_seed_b": 7, "mix_coarse_from_b": False, "mix_middle_from_b": True, "mix_fine_from_b": True,
                "interp_seeds": "3, 4", "interp_path": "z", "interp_frames": 10, "interp_fps": 12,
                "interp_size": 512, "photo_space": "w", "photo_steps": 50, "photo_deep_features": False}
    if name == "evaluate":
        real, inputs = make_folders(tmp_path / "eval", 2)
        clf = home / "classifiers" / "faces.safetensors"
        return {"real": str(real), "model": "tiny", "inputs": str(inputs), "metrics": ["fid", "diversity"],
                "classifier": str(clf)}
    if name == "export":
        return {"models": ["tiny", "vintagify"], "kind": "onnx", "name": "my-app", "title": "My app",
                "icon": str(make_image(tmp_path / "icon.png", 32, 32)), "out": str(tmp_path / "out"),
                "archive": False}
    if name == "lab":
        side = {"loss": "hinge", "minibatch": "stddev", "unrolled": 3, "d_steps": 2, "augment": True,
                "spectral_norm": True, "ttur": True, "conditional": True}
        return {"data": "spiral", "steps": 1234, "compare": False, "show_surface": False, "show_field": False,
                "show_real": False, "show_fake": False, **{f"a_{k}": v for k, v in side.items()},
                **{f"b_{k}": v for k, v in side.items() if k != "unrolled"}, "b_unrolled": 0}
    a, b = make_folders(tmp_path / "data", 3)
    form = dict(page.settings.form_values(), preset="tiny", steps=1234, name="my faces", lambda_identity=0.25,
                diffaug="color", device="cpu", advanced_open=True, face_crop=True)
    return {"settings": form, "folder_a": str(a), "folder_b": str(b)}


def prepare(name, home):
    if name == "evaluate":  # a domain classifier for the Classifier choice
        (home / "classifiers").mkdir(parents=True, exist_ok=True)
        shutil.copy(home / "models" / "tiny" / "model.safetensors", home / "classifiers" / "faces.safetensors")


def what_the_user_sees(name, page):
    """A few widgets, read directly, after the restart."""
    if name == "translate":
        page.picker.select("face2anime")
        return [page.picker.listed().id == "face2anime", not page.face_toggle.isChecked(),
                page.size_picker.mode() == "long", not page.size_picker.side.isHidden(),
                page.size_picker.side.value() == 512]
    if name == "draw":
        return [page.current_model().id == "tiny", page.tools.size_spin.value() == 17,
                page.canvas.pen_color == (200, 30, 40), page.norm_combo.currentData() == "train"]
    if name == "latent":
        return [page.psi_label.text() == "0.35", page.start_seed.value() == 100,
                page.interp_panel.seeds.text() == "3, 4", page.mix_panel.from_b() == ["middle", "fine"]]
    if name == "evaluate":
        return [page.real_edit.text().endswith("A") and page.input_edit.text().endswith("B"), page.metrics_box.selected() == ["fid", "diversity"],
                page.metrics_box.classifier().endswith("faces.safetensors")]
    if name == "export":
        return [page.kind() == "onnx", page.archive_check.isHidden(), page.name_edit.text() == "my-app",
                set(page.checked_ids()) == {"tiny", "vintagify"}]
    if name == "lab":
        return [page.data.currentData() == "spiral", page.sides[1].isHidden(),
                page.sides[0].settings.config("spiral").loss == "hinge"]
    return [page.start_btn.isEnabled(), page.settings.steps.value() == 1234, page.settings.adv_btn.isChecked()]


@pytest.mark.parametrize("name", PAGES)
def test_every_field_of_every_page_comes_back_after_a_restart(name, qtbot, open_window, tmp_path, _isolated_home,
                                                              tiny_model_id):
    prepare(name, _isolated_home)
    win = open_window()
    page = win.pages[name]
    memory = page.memory
    changes = new_values(name, page, tmp_path, _isolated_home)
    assert sorted(changes) == sorted(memory.names())  # the test changes every remembered field of the page
    defaults = {n: f.get() for n, f in memory.fields.items()}
    for n, v in changes.items():
        memory.fields[n].set(v)
    changed = {n: f.get() for n, f in memory.fields.items()}
    assert [n for n in changes if changed[n] == defaults[n]] == []  # each one really changed on screen
    saved = memory.values()
    if name == "train":
        qtbot.waitUntil(lambda: page.box_a.count == 3 and page.box_b.count == 3, timeout=20000)
    win.close()

    win2 = open_window()
    page2 = win2.pages[name]
    if name == "train":
        qtbot.waitUntil(lambda: page2.box_a.count == 3 and page2.box_b.count == 3, timeout=20000)
    assert page2.memory.why == ""
    assert page2.memory.values() == saved
    assert all(what_the_user_sees(name, page2))
    win2.close()


def test_translate_falls_back_whole_when_the_remembered_model_is_deleted(qtbot, open_window, _isolated_home,
                                                                         tiny_model_id):
    win = open_window()
    page = win.pages["translate"]
    default = page.current_model().id
    assert page.picker.select("tiny")
    page.size_picker.combo.setCurrentIndex(page.size_picker.combo.findData("long"))
    page.size_picker.side.setValue(512)
    win.close()
    shutil.rmtree(_isolated_home / "models" / "tiny")

    win2 = open_window()
    page2 = win2.pages["translate"]
    assert page2.current_model().id == default and page2.picker.picked == ""
    assert page2.size_picker.mode() == "input" and page2.size_picker.side.value() == 1024  # not half a form
    assert page2.problems.texts() == ["Last session's settings were not restored: the model 'tiny' is no longer "
                                      "in the library. This page starts with its defaults. They are kept (with what "
                                      "you change now) and come back when they can be shown."]
    win2.close()


def evaluate_form_saved(open_window, tmp_path, metrics=None):
    """The Evaluate page's form filled (real and input folders, the tiny model) and saved by closing the window."""
    real, inputs = make_folders(tmp_path / "eval", 2)
    win = open_window()
    page = win.pages["evaluate"]
    page.real_edit.setText(str(real))
    page.input_edit.setText(str(inputs))
    page.picker.select("tiny")
    if metrics:
        page.metrics_box.set_selected(metrics)
    win.close()
    return real, inputs


def test_evaluate_restores_all_but_a_real_folder_that_is_gone(qtbot, open_window, tmp_path, tiny_model_id):
    """A helper's pass: one moved folder lost every other setting of the form. A missing folder alone is left out."""
    real, inputs = evaluate_form_saved(open_window, tmp_path, ["kid"])
    shutil.rmtree(real)

    win2 = open_window()
    page2 = win2.pages["evaluate"]
    assert page2.real_edit.text() == "" and page2.input_edit.text() == str(inputs)
    assert page2.picker.picked == "tiny" and page2.metrics_box.selected() == ["kid"]
    assert page2.problems.texts()[0] == (f"Last session's settings are back, except: the folder of real images "
                                         f"({real}) no longer exists.")
    win2.close()


def test_a_record_that_could_not_be_shown_is_kept_with_the_changes_made_since(qtbot, open_window, tmp_path,
                                                                            tiny_model_id):
    """A folder on a drive that was not plugged in: the next session starts with defaults, but the record was then
    replaced by the first change and never came back. Now it is kept, with that change, until it can be shown."""
    real, inputs = evaluate_form_saved(open_window, tmp_path)
    away = real.with_name("unplugged")
    real.rename(away)

    win2 = open_window()
    page2 = win2.pages["evaluate"]
    assert page2.real_edit.text() == "" and "are back, except" in page2.problems.texts()[0]
    page2.metrics_box.set_selected(["kid"])  # a change made meanwhile
    win2.close()
    away.rename(real)

    win3 = open_window()
    page3 = win3.pages["evaluate"]
    assert page3.real_edit.text() == str(real) and page3.input_edit.text() == str(inputs)
    assert page3.picker.picked == "tiny" and page3.metrics_box.selected() == ["kid"] and not page3.problems.texts()
    win3.close()


def test_export_restores_no_ticks_when_a_ticked_model_is_deleted(qtbot, open_window, tmp_path, _isolated_home,
                                                                 tiny_model_id):
    win = open_window()
    page = win.pages["export"]
    page.set_checked(["tiny", "vintagify"])
    page.kind_buttons["model"].setChecked(True)
    page.out_edit.setText(str(tmp_path / "out"))
    win.close()
    shutil.rmtree(_isolated_home / "models" / "tiny")

    win2 = open_window()
    page2 = win2.pages["export"]
    assert page2.checked_ids() == [] and page2.kind() == "app" and page2.out_edit.text() == ""
    assert "the model 'tiny' is no longer in the library" in page2.status.text()
    assert not page2.export_btn.isEnabled()
    win2.close()


def test_a_damaged_record_restores_nothing(qtbot, open_window):
    from app.settings import settings

    settings().save_form("lab", {"data": "spiral", "steps": "many"})
    win = open_window()
    page = win.pages["lab"]
    assert page.data.currentData() == "ring8" and page.steps.value() == 5000
    assert "the steps 'many' is not a number" in page.problems.texts()[0]
    page.steps.setValue(2000)  # the next change replaces the damaged record
    assert settings().load_form("lab")["steps"] == 2000
    win.close()


def test_a_field_that_fails_while_being_shown_puts_every_field_back(qtbot):
    from app.settings import settings

    edit, spin, box = QLineEdit("kept"), QSpinBox(), QCheckBox()
    for w in (edit, spin, box):
        qtbot.addWidget(w)

    def explode(_v):
        raise ValueError("cannot show this")

    fields = {"text": edit, "number": spin, "later": Field(lambda: 0, explode), "flag": box}
    settings().save_form("toy", {"text": "new", "number": 7, "later": 1, "flag": True})
    memory = FormMemory("toy", fields)
    assert "cannot show this" in memory.restore()
    assert (edit.text(), spin.value(), box.isChecked()) == ("kept", 0, False)
    spin.setValue(3)  # saving starts after restore, even a failed one
    assert settings().load_form("toy")["number"] == 3
