"""Small file-system helpers that the rest of the engine trusts with users' names."""
from __future__ import annotations

from engine.fsutil import slug


def test_slug_keeps_names_inside_their_folder():
    assert slug("My Run / ../../etc") == "my-run-etc"
    assert slug("..", "run") == "run" and slug("", "model") == "model" and slug("名前", "rater") == "rater"
    assert slug("Anime (v2)", lower=False) == "Anime-v2"
    assert slug("a_b-c") == "a_b-c"
