"""HYPE scoring on scripted answers: error rates, the staircase, modal thresholds, bootstrap intervals, saving and
resuming sessions, merging raters."""
from __future__ import annotations

import json

import pytest

from engine.errors import DataError
from engine.metrics import hype as H


def _paths(prefix, n):
    return [f"/data/{prefix}_{i}.png" for i in range(n)]


def _play(s: H.Session, wrong_on) -> None:
    """Answer every remaining item; ``wrong_on(item) -> bool`` says when the scripted rater errs."""
    while not s.finished:
        item = s.current()
        truth = item["real"]
        s.answer(not truth if wrong_on(item) else truth)


def test_hype_infinity_scores_the_error_rate_with_a_bootstrap_interval():
    s = H.new_session(_paths("r", 20), _paths("f", 20), mode="inf", rater="ann", n_each=20, seed=1)
    assert len(s.order) == 40 and sum(i["real"] for i in s.items) == 20
    # the rater takes fakes 0..9 for real (deceived by half the fakes) and never errs on real images
    _play(s, lambda it: not it["real"] and int(it["path"].rsplit("_", 1)[1][:-4]) < 10)
    sc = H.score([s], n_boot=500)
    assert sc.score == pytest.approx(25.0)  # 10 errors of 40 answers
    assert sc.fake_error == pytest.approx(50.0) and sc.real_error == pytest.approx(0.0)
    assert sc.ci_low < 25.0 < sc.ci_high
    binomial_width = 2 * 1.96 * (0.25 * 0.75 / 40) ** 0.5 * 100  # normal approximation, ~26.8 points
    assert (sc.ci_high - sc.ci_low) == pytest.approx(binomial_width, abs=5)
    assert "HYPE-∞ 25.0%" in sc.text() and "fakes taken for real 50.0%" in sc.text()


def test_hype_time_staircase_and_modal_threshold():
    s = H.new_session(_paths("r", 30), _paths("f", 30), mode="time", rater="bob", n_each=30, seed=2)
    start = s.exposure_ms()
    assert start == pytest.approx(500.0)
    for _ in range(3):  # three correct in a row: one step shorter
        s.answer(s.current()["real"])
    assert s.exposure_ms() == pytest.approx(500.0 - 1000 / 30, abs=0.1)
    s.answer(not s.current()["real"])  # one wrong: one step longer
    assert s.exposure_ms() == pytest.approx(500.0)
    # a rater who is right three times, then wrong once, forever: the staircase oscillates between two levels
    k = {"n": 0}

    def pattern(_item):
        k["n"] += 1
        return k["n"] % 4 == 0

    _play(s, pattern)
    exposures = [a.exposure_ms for a in s.answers]
    assert set(exposures[4:]) <= {500.0, round(500.0 - 1000 / 30, 1)}
    sc = H.score([s], n_boot=300)
    assert sc.mode == "time" and sc.score in (500.0, round(500.0 - 1000 / 30, 1))
    assert sc.ci_low <= sc.score <= sc.ci_high and "ms" in sc.text()


def test_sessions_are_saved_after_every_answer_and_resume(tmp_path):
    path = tmp_path / "ann.json"
    s = H.new_session(_paths("r", 10), _paths("f", 10), mode="inf", rater="ann", n_each=10, seed=3, path=path)
    for _ in range(7):
        s.answer(True)
    resumed = H.Session.load(path)
    assert resumed.position == 7 and resumed.order == s.order and resumed.current() == s.current()
    _play(resumed, lambda it: False)
    again = H.Session.load(path)
    assert again.finished and len(again.answers) == 20
    assert json.loads(path.read_text())["format"] == H.FORMAT
    with pytest.raises(DataError, match="finished"):
        again.answer(True)


def test_several_raters_merge():
    a = H.new_session(_paths("r", 10), _paths("f", 10), mode="inf", rater="ann", n_each=10, seed=4)
    b = H.new_session(_paths("r", 10), _paths("f", 10), mode="inf", rater="bob", n_each=10, seed=5)
    _play(a, lambda it: False)  # ann: 0% error
    _play(b, lambda it: not it["real"])  # bob: takes every fake for real, 50% error
    sc = H.score([a, b], n_boot=400)
    assert sc.n_raters == 2 and sc.n_answers == 40
    assert sc.score == pytest.approx(25.0) and sc.per_rater == {"ann": 0.0, "bob": 50.0}
    assert sc.ci_low <= 25.0 <= sc.ci_high
    t = H.new_session(_paths("r", 10), _paths("f", 10), mode="time", rater="cy", n_each=10, seed=6)
    t.answer(True)
    with pytest.raises(DataError, match="different modes"):
        H.score([a, t])


def test_bad_inputs():
    with pytest.raises(DataError, match="at least 5 real and 5 generated"):
        H.new_session(_paths("r", 3), _paths("f", 10))
    with pytest.raises(DataError, match="mode"):
        H.new_session(_paths("r", 10), _paths("f", 10), mode="fast")
    s = H.new_session(_paths("r", 10), _paths("f", 10))
    with pytest.raises(DataError, match="no answers"):
        H.score([s])


def test_a_foreign_file_is_not_a_session(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    with pytest.raises(DataError, match="not a GAN Studio HYPE session"):
        H.Session.load(p)
    p.write_text("{broken")
    with pytest.raises(DataError, match="Cannot read"):
        H.Session.load(p)


def test_unreadable_images_are_left_out_and_new_sessions_never_share_a_file(tmp_path):
    from PIL import Image

    real, fake = [], []
    for i in range(6):
        for prefix, out in (("r", real), ("f", fake)):
            p = tmp_path / f"{prefix}{i}.png"
            Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(p)
            out.append(str(p))
    (tmp_path / "bad.png").write_text("text")
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff")
    fake += [str(tmp_path / "bad.png"), str(tmp_path / "cut.jpg")]
    s = H.new_session(real, fake, n_each=8, seed=3, readable=H.decodes)
    assert len(s.items) == 12 and sorted(s.skipped) == sorted(fake[-2:])
    assert not any(i["path"] in s.skipped for i in s.items)
    with pytest.raises(DataError, match="2 unreadable files left out"):
        H.new_session(real, fake[:3] + fake[-2:], n_each=8, readable=H.decodes)
    a, b = s.save_new(tmp_path / "sessions", "ann-inf-20261208"), s.save_new(tmp_path / "sessions", "ann-inf-20261208")
    assert a != b and a.exists() and b.exists() and "skipped" not in json.loads(a.read_text())
    assert H.Session.load(b).items == s.items
