"""The model card that travels with an exported model.

Inside every ``.onnx`` file GAN Studio writes, ``metadata_props["ganstudio"]`` holds the card as JSON (model, source,
exporter and opset, input/output contract, parity result); onnxruntime exposes it as
``session.get_modelmeta().custom_metadata_map``, which is how the standalone app learns how to pad, crop and name
the model. ``FILE.md`` beside it is the same card for people, followed by the original model card where one exists.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from .. import __version__
from ..outputs import write_output_text
from ..library import ModelInfo
from . import ExportError

CARD_KEY = "ganstudio"
CARD_FORMAT = "ganstudio.onnx"
CARD_VERSION = 1


def build_card(info: ModelInfo, *, io: Dict[str, Any], export: Dict[str, Any], parity: Dict[str, Any],
               notes: Optional[List[str]] = None) -> Dict[str, Any]:
    model = dict((info.meta or {}).get("model") or {})
    model.update(id=info.id, name=info.name, family=info.family, task=info.task, direction=info.direction,
                 description=info.description)
    meta = info.meta or {}
    return {"format": CARD_FORMAT, "format_version": CARD_VERSION, "model": model,
            "arch": meta.get("arch", ""), "arch_kwargs": meta.get("arch_kwargs") or {},
            "source": {"file": str(info.path), "kind": info.source, "licence": _licence(info)},
            "export": dict(export, created_with=f"ganstudio {__version__}",
                           created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z")),
            "io": io, "parity": parity, "notes": list(notes or [])}


def _licence(info: ModelInfo) -> str:
    lic = (info.meta or {}).get("licence") or (info.meta or {}).get("license") or ""
    if not lic and info.card is not None and (info.card.parent / "LICENSE").exists():
        lic = f"see {info.card.parent / 'LICENSE'}"
    return str(lic)


def embed_card(src: Path, dest: Path, card: Dict[str, Any]) -> None:
    """Copy the ONNX model ``src`` to ``dest`` with the card in its metadata, checked by ``onnx.checker``."""
    import onnx

    model = onnx.load(str(src))
    onnx.helper.set_model_props(model, {CARD_KEY: json.dumps(card, default=str)})
    model.doc_string = f"{card['model'].get('name', '')}: exported by GAN Studio {__version__}"
    model.producer_name = "ganstudio"
    model.producer_version = __version__
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"The exported ONNX model is not valid: {str(e).splitlines()[0][:300]}") from None
    onnx.save(model, str(dest))


def read_card(path) -> Dict[str, Any]:
    """The card inside an ONNX file written by GAN Studio (an :class:`ExportError` for any other file)."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"ONNX file not found: {path}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001
        raise ExportError(f"{path} is not a readable ONNX model.") from None
    props = {p.key: p.value for p in model.metadata_props}
    if CARD_KEY not in props:
        raise ExportError(f"{path} was not exported by GAN Studio (it has no model card).")
    try:
        return json.loads(props[CARD_KEY])
    except json.JSONDecodeError:
        raise ExportError(f"{path}: the model card inside the file is damaged.") from None


def card_markdown(card: Dict[str, Any], original: Optional[str] = None) -> str:
    m, e, io, p = card["model"], card["export"], card["io"], card["parity"]
    rows = [("id", m.get("id")), ("family", m.get("family")), ("task", m.get("task")),
            ("direction", m.get("direction")), ("architecture", f"`{card.get('arch')}` {card.get('arch_kwargs')}"),
            ("source file", card["source"]["file"]),
            ("licence", card["source"].get("licence")
             or ("see the original card below" if original else "not recorded")),
            ("exporter", f"{e.get('exporter_detail', e['exporter'])}; torch {e.get('torch')}"),
            ("opset", e["opset"]), ("exported", f"{e['created_at']} with {e['created_with']}")]
    lines = [f"# {m.get('name') or m.get('id')} (ONNX)", "", m.get("description") or "", "",
             "| field | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows if v not in (None, "")]
    lines += ["", "## Inputs and outputs", ""]
    lines += [f"- input `{k}`: {v}" for k, v in io["inputs"].items()]
    lines += [f"- output `{k}`: {v}" for k, v in io["outputs"].items()]
    lines.append(f"- values in [-1, 1], {io['layout']}, {io['dtype']}")
    if io["task"] == "translate":
        lines.append(f"- height and width: multiples of {io['size_multiple']}, at least {io['min_side']} px"
                     + ("" if io["dynamic_hw"] else f"; this file is fixed at {io['fixed_size']}"))
        lines.append(f"- any other size: {io['padding']}")
    else:
        lines.append(f"- z ~ {io['z_distribution']}, z_dim {io['z_dim']}"
                     + (f"; truncation psi input (default {io['psi']})" if io.get("psi_input") else
                        f"; truncation psi fixed at {io['psi']}" if io.get("psi") is not None else ""))
    lines += ["", "## Parity", "",
              f"torch vs {p['runtime']}: maximum absolute difference {p['max_abs_diff']:.2e} on [-1, 1] outputs "
              f"(tolerance {p['tolerance']:g}), inputs {', '.join(str(c['input_shape']) for c in p['cases'])}."]
    if card.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in card["notes"]]
    if original:
        lines += ["", "---", "", "## Original model card", "", original.strip()]
    return "\n".join(lines) + "\n"


def write_card_markdown(dest: Path, card: Dict[str, Any], original_card: Optional[Path] = None, *,
                        inputs=(), overwrite: bool = True) -> Path:
    original = None
    if original_card is not None and Path(original_card).is_file():
        original = Path(original_card).read_text(encoding="utf-8", errors="replace")
    return write_output_text(Path(dest), card_markdown(card, original), inputs=inputs, overwrite=overwrite,
                             what="model card")
