"""Full and fast versions of a model: a distilled student (``ganstudio distill``) names its teacher in its metadata
(``distilled_from``: id, name, architecture, file, MACs), so the library can pair them.

- :func:`versions` groups a model list into entries with their fast version: the pages show one entry per model and
  a Fast / Full choice where a fast version exists. A fast model whose teacher is gone stays an entry of its own.
- :func:`default_speed` is "fast" on a CPU and "full" on a GPU.
- :func:`facts` are the lines a model card shows: architecture, parameters, MACs at 256x256 and, for a fast model,
  its teacher (present or deleted) and the speed-up in MACs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from .checkpoint import CHECKSUM_KEY
from .library import ModelInfo
from .models.macs import format_macs, model_macs

def teacher_of(info: ModelInfo) -> Optional[Dict[str, Any]]:
    rec = info.meta.get("distilled_from")
    return rec if isinstance(rec, dict) and rec.get("id") else None


def is_fast(info: ModelInfo) -> bool:
    return teacher_of(info) is not None


def _same_model(rec: Dict[str, Any], m: ModelInfo) -> bool:
    """Is ``m`` the teacher that ``rec`` (a fast model's ``distilled_from``) names? Found by file, else by id and
    architecture; where both sides carry the weights' checksum it must match too, so that a fast version of an
    earlier model is not offered as the fast version of the model re-trained under the same id."""
    if _earlier_version(rec, m):
        return False
    if rec.get("file") and Path(str(rec["file"])).resolve() == Path(m.path).resolve():
        return True
    return rec.get("id") == m.id.split("@")[0] and rec.get("arch") in (None, m.arch)


def _earlier_version(rec: Dict[str, Any], m: ModelInfo) -> bool:
    """``m`` has the teacher's id but other weights: the fast model was distilled from an earlier version of it."""
    theirs, ours = rec.get(CHECKSUM_KEY), m.meta.get(CHECKSUM_KEY)
    return bool(theirs and ours and theirs != ours and rec.get("id") == m.id.split("@")[0])


@dataclass
class Versions:
    full: ModelInfo  # the entry shown (the teacher, or a fast model whose teacher is gone)
    fast: Optional[ModelInfo] = None

    def pick(self, speed: str) -> ModelInfo:
        return self.fast if speed == "fast" and self.fast is not None else self.full


def versions(models: List[ModelInfo]) -> List[Versions]:
    """One entry per model, each full model with its (first) fast version; order of ``models`` kept."""
    out: List[Versions] = []
    by_id: Dict[str, Versions] = {}
    students = [m for m in models if is_fast(m)]
    for m in models:
        if is_fast(m):
            continue
        v = Versions(m, next((s for s in students if _same_model(teacher_of(s), m)), None))
        out.append(v)
        by_id[m.id] = v
    paired = {id(v.fast) for v in out if v.fast is not None}
    for s in students:
        if id(s) not in paired:
            out.append(Versions(s))
    return out


def default_speed(device_type: str) -> str:
    return "full" if device_type in ("cuda", "mps") else "fast"


def macs_text(info: ModelInfo) -> str:
    macs = info.meta.get("macs_256")
    macs = int(macs) if isinstance(macs, (int, float)) else model_macs(info.meta)
    return f"{format_macs(macs)}MACs at 256x256" if macs else ""


def summary(info: ModelInfo) -> str:
    """One plain sentence for the line under a model picker: a fast model says what it is, in words (its
    description, with architecture and MACs, is for the tooltip and the card)."""
    rec = teacher_of(info)
    if not rec:
        return info.description or info.arch
    mine, theirs = model_macs(info.meta), rec.get("macs_256")
    less = f"about {theirs / mine:.0f}x less computation per picture" if mine and theirs else "much less computation"
    return f"A fast version of {rec.get('name') or rec['id']}: {less}. Choose Full for its exact look."


def facts(info: ModelInfo, library_models: Optional[List[ModelInfo]] = None) -> List[str]:
    """Markdown bullet lines about ``info`` for its card."""
    kw = info.meta.get("arch_kwargs") or {}
    lines = [f"- architecture: `{info.arch or 'unknown'}`" + (f" (ngf {kw['ngf']})" if "ngf" in kw else "")]
    m = macs_text(info)
    if m:
        lines.append(f"- compute: {m}")
    rec = teacher_of(info)
    if rec:
        present = any(_same_model(rec, x) for x in (library_models or []))
        earlier = any(_earlier_version(rec, x) for x in (library_models or []))
        state = ("" if present else " (an earlier version of the model now under that id: distil again for a fast "
                 "version of the current one; this fast model keeps working)" if earlier
                 else " (no longer in the library; this fast model does not need it)")
        ratio = ""
        own = info.meta.get("macs_256") or model_macs(info.meta)
        if rec.get("macs_256") and own:
            ratio = f", {int(rec['macs_256']) / int(own):.1f}x the MACs of this fast version"
        lines.append(f"- fast version of: **{rec.get('name', rec['id'])}** (`{rec['id']}`, {rec.get('arch', '?')}"
                     f"{ratio}){state}")
    return lines
