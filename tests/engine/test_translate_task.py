"""The translation task behind the GUI and the CLI: folders, bad files, cancel, never overwriting inputs."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from engine.errors import ModelNotFound
from engine.imageio import load_image
from engine.jobs import JobManager, JobState, PartialResult, run_inline
from engine.library import ModelLibrary, model_meta, save_model
from engine.models import get_model
from engine.translate import TranslateConfig, translate_task


@pytest.fixture
def tiny_model(_isolated_home):
    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=8)
    meta = model_meta(id="tiny", name="Tiny test model", family="cyclegan", task="translate", arch="resnet_6blocks",
                      arch_kwargs={"ngf": 8})
    save_model(_isolated_home / "models" / "tiny" / "model.safetensors", net, meta)
    return net


def test_folder_with_bad_files_translates_the_rest(tmp_path, tiny_model, image_factory):
    src = tmp_path / "in"
    image_factory("in/a.png")
    image_factory("in/sub/b.jpg", w=33, h=21)
    image_factory("in/c.png", channels=4)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (src / "notes.txt").write_text("x")
    out = tmp_path / "out"
    partials = []
    res = run_inline(translate_task, TranslateConfig(model="tiny", inputs=(str(src),), out_dir=str(out), suffix="_t"),
                     on_event=lambda e: partials.append(e.value) if isinstance(e, PartialResult) else None)
    assert sorted(p.output.name for p in res.translated) == ["a_t.png", "b_t.jpg", "c_t.png"]
    reasons = {p.name: r for p, r in res.skipped}
    assert set(reasons) == {"broken.png", "notes.txt"}
    assert "corrupt" in reasons["broken.png"] or "truncated" in reasons["broken.png"]
    assert load_image(out / "b_t.jpg").rgb.shape == (21, 33, 3)
    assert load_image(out / "c_t.png").alpha is not None
    assert len(partials) == 5 and not res.ok


def test_output_into_input_folder_never_overwrites(tmp_path, tiny_model, image_factory):
    a = image_factory("a.png")
    before = a.read_bytes()
    res = run_inline(translate_task, TranslateConfig(model="tiny", inputs=(str(a),), out_dir=str(tmp_path)))
    assert res.translated[0].output.name == "a_1.png" and a.read_bytes() == before


def test_cancel_stops_between_images(tmp_path, tiny_model, image_factory):
    for i in range(30):
        image_factory(f"in/{i:02d}.png", seed=i)
    jm = JobManager()
    seen = threading.Event()
    jm.add_listener(lambda e: seen.set() if isinstance(e, PartialResult) else None)
    job = jm.submit(translate_task, TranslateConfig(model="tiny", inputs=(str(tmp_path / "in"),),
                                                    out_dir=str(tmp_path / "out")))
    assert seen.wait(30)
    job.cancel()
    assert job.wait(30)
    jm.shutdown()
    assert job.state == JobState.CANCELLED
    written = list((tmp_path / "out").glob("*.png"))
    assert 1 <= len(written) < 30
    assert not list((tmp_path / "out").glob(".*part"))  # no half-written files


def test_default_model_is_bundled_vintagify(tmp_path, image_factory):
    a = image_factory("a.png", w=40, h=40)
    res = run_inline(translate_task, TranslateConfig(inputs=(str(a),), out_dir=str(tmp_path / "o")))
    assert res.model == "Vintage photo"
    out = load_image(res.translated[0].output).rgb.astype(int)
    assert out.shape == (40, 40, 3) and np.abs(out - load_image(a).rgb.astype(int)).mean() > 1


def test_foreign_pth_is_imported_on_the_fly(tmp_path, image_factory):
    torch.manual_seed(3)
    net = get_model("resnet_9blocks", ngf=4)
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, tmp_path / "latest_net_G_A.pth")
    a = image_factory("a.png", w=24, h=24)
    res = run_inline(translate_task, TranslateConfig(model=str(tmp_path / "latest_net_G_A.pth"), inputs=(str(a),),
                                                     out_dir=str(tmp_path / "o")))
    assert len(res.translated) == 1
    assert {m.source for m in ModelLibrary().list()} == {"bundled"}  # nothing was added to the library


def test_unknown_model_lists_known_ones(tmp_path, image_factory):
    with pytest.raises(ModelNotFound, match="vintagify"):
        run_inline(translate_task, TranslateConfig(model="nope", inputs=(str(image_factory()),), out_dir=str(tmp_path)))


def test_an_output_folder_inside_the_input_folder_is_not_read_back_as_input(tmp_path, tiny_model, image_factory):
    """`translate photos -o photos/out` twice used to translate the first run's outputs too (img0_1 of img0...)."""
    for name in ("photos/a.png", "photos/b.png"):
        image_factory(name)
    src, out = tmp_path / "photos", tmp_path / "photos" / "out"
    for pattern in (str(src), str(src / "*")):
        for _ in range(2):
            res = run_inline(translate_task, TranslateConfig(model="tiny", inputs=(pattern,), out_dir=str(out)))
            assert sorted(p.source.name for p in res.translated) == ["a.png", "b.png"] and not res.skipped
    assert len(list(out.iterdir())) == 8  # 2 images x 4 runs, none translated twice
    res = run_inline(translate_task, TranslateConfig(model="tiny", inputs=(str(out),), out_dir=str(out)))
    assert len(res.translated) == 8  # a folder given as the input is read whole, even when it is the output


def test_a_photo_given_to_a_sketch_model_gets_a_note_and_an_unknown_name_lists_translators(tmp_path):
    """A new user's pass: a photo through sketch2face gave blue noise and no word; `-m vintage` listed the StyleGAN
    and the DCGAN, which cannot translate."""
    from engine.sketch import make_sketch

    photo = load_image("resources/samples/astronaut.png").to_uint8().rgb
    from engine.imageio import save_image

    save_image(tmp_path / "in" / "photo.png", photo)
    save_image(tmp_path / "in" / "sketch.png", make_sketch(photo))
    res = run_inline(translate_task, TranslateConfig(model="sketch2face-fast", inputs=(str(tmp_path / "in"),)))
    notes = {r.source.name: r.notes for r in res.translated}
    assert any("looks like a photo" in n and "Sketch from photo" in n for n in notes["photo.png"])
    assert not any("looks like a photo" in n for n in notes["sketch.png"])
    with pytest.raises(ModelNotFound) as e:
        run_inline(translate_task, TranslateConfig(model="vintage-x", inputs=(str(tmp_path / "in"),)))
    assert "vintagify" in str(e.value) and "stylegan" not in str(e.value) and "dcgan" not in str(e.value)
