"""Remembering a page's form: every field the user can change is saved as ONE record (``Settings.save_form``) on
every change, and restored whole at the next start, or not at all.

A page lists its fields once::

    self.form = FormMemory("lab", {"data": self.data, "steps": self.steps, "folder": folder_field(edit, "Folder")})
    why = self.form.restore()   # "" when restored (or nothing saved); else why nothing was

Standard widgets need nothing more: combo boxes (their item data, else their text), spin boxes, sliders, check boxes
and checkable buttons, line edits, and a dict of exclusive buttons (``{"app": radio, "onnx": radio}``). A value that
can stop being valid gets a check that says why (:func:`folder_field`, :func:`file_field`, :func:`picker_field` for a
model no longer in the library); anything else is a :class:`Field` of its own (get, set, check, signals).

``restore()`` checks every saved value first; if one cannot be shown (a deleted model, a choice no longer offered, a
damaged record) nothing is changed and the reason is returned, so a page is never restored into a mix that was never
on screen. An *optional* field (a folder or file, which may be back once a drive is plugged in) is the exception: a
missing one alone is left out, the rest is restored, and the record is kept whole for the next start. A field the
record does not have (added in a later version) keeps its default. Saving is paused while the form is restored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QDoubleSpinBox,
                               QLineEdit, QWidget)

from app.settings import settings


def _ok(_value: Any) -> str:
    return ""


@dataclass
class Field:
    """One remembered field: ``get()`` its value (JSON-able), ``set(value)`` shows it, ``check(value)`` says why a
    saved value cannot be shown ("" when it can), ``signals`` fire when the user changes it. ``spread``: ``get()``
    returns a dict merged into the record, and ``check``/``set`` receive the whole record (a panel of many
    fields that checks them together, e.g. the Train settings)."""

    get: Callable[[], Any]
    set: Callable[[Any], None]
    check: Callable[[Any], str] = _ok
    signals: Sequence[Any] = dc_field(default_factory=tuple)
    spread: bool = False
    optional: bool = False  # a path that may be gone for a while: left out alone, the rest of the form is shown


def _combo_index(combo: QComboBox, value: Any) -> int:
    i = combo.findData(value) if value is not None else -1
    return i if i >= 0 else combo.findText(str(value))


def _label(name: str) -> str:
    return name.replace("_", " ")


def widget_field(w: Any, name: str) -> Field:
    """The :class:`Field` of a standard widget (see the module docstring)."""
    label = _label(name)
    if isinstance(w, Field):
        return w
    if isinstance(w, Mapping):  # exclusive buttons: the key of the checked one
        buttons = dict(w)
        return Field(lambda: next((k for k, b in buttons.items() if b.isChecked()), ""),
                     lambda v: buttons[v].setChecked(True),
                     lambda v: "" if v in buttons else f"the {label} {v!r} is not offered any more",
                     [b.toggled for b in buttons.values()])
    if isinstance(w, QComboBox):
        return Field(lambda: w.currentData() if w.currentData() is not None else w.currentText(),
                     lambda v: w.setCurrentIndex(_combo_index(w, v)),
                     lambda v: "" if _combo_index(w, v) >= 0 else f"the {label} {v!r} is not offered any more",
                     [w.currentIndexChanged])
    if isinstance(w, (QAbstractSpinBox, QAbstractSlider)) and hasattr(w, "value"):
        is_float = isinstance(w, QDoubleSpinBox)

        def check(v: Any) -> str:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (not is_float and v != int(v)):
                return f"the {label} {v!r} is not a number"
            return "" if w.minimum() <= v <= w.maximum() else f"the {label} {v} is out of range"

        return Field(w.value, lambda v: w.setValue(float(v) if is_float else int(v)), check, [w.valueChanged])
    if isinstance(w, QAbstractButton):
        return Field(w.isChecked, lambda v: w.setChecked(bool(v)),
                     lambda v: "" if isinstance(v, bool) else f"the {label} {v!r} is not on or off", [w.toggled])
    if isinstance(w, QLineEdit):
        return Field(w.text, w.setText, lambda v: "" if isinstance(v, str) else f"the {label} {v!r} is not text",
                     [w.textChanged])
    raise TypeError(f"FormMemory cannot remember a {type(w).__name__} ({name}); give a Field")


def path_check(what: str, kind: str = "dir") -> Callable[[Any], str]:
    """The check of a saved folder (``kind="dir"``) or file path: text, and (unless empty) still there."""
    def check(v: Any) -> str:
        if not isinstance(v, str):
            return f"{what} {v!r} is not a path"
        ok = not v or (Path(v).is_dir() if kind == "dir" else Path(v).is_file())
        return "" if ok else f"{what} ({v}) no longer exists"

    return check


def path_field(edit: QLineEdit, what: str, kind: str = "dir") -> Field:
    """A line edit holding a folder (``kind="dir"``) or file path: a saved path that no longer exists is refused."""
    return Field(edit.text, edit.setText, path_check(what, kind), [edit.textChanged], optional=True)


def picker_field(picker) -> Field:
    """A :class:`app.widgets.model_picker.ModelPicker`: the model the user picked ("" while they picked none, so a
    default is never pinned), or the ticked models of a check list; a model gone from the library is refused."""
    if picker.multi:
        def check_ticks(v: Any) -> str:
            if not isinstance(v, list):
                return f"the ticked models {v!r} are not a list"
            gone = [m for m in v if not picker.has(m)]
            return f"the model {gone[0]!r} is no longer in the library" if gone else ""

        return Field(picker.checked_ids, picker.set_checked, check_ticks, [picker.checkedChanged])

    def check(v: Any) -> str:
        if not isinstance(v, str):
            return f"the model {v!r} is not a model id"
        return "" if not v or picker.has(v) else f"the model {v!r} is no longer in the library"

    return Field(lambda: picker.picked, picker.pick, check, [picker.pickChanged])


class FormMemory:
    """The remembered form of one page (``key``): ``restore()`` once after building, then every change is saved."""

    def __init__(self, key: str, fields: Mapping[str, Union[Field, QWidget, Mapping]]):
        self.key = key
        self.fields: Dict[str, Field] = {name: widget_field(w, name) for name, w in fields.items()}
        self.why = ""  # why last session's record was not restored ("" when it was, or there was none)
        self.partial = False  # restored but for the optional fields that ``why`` names
        self._paused = True  # nothing is saved before restore() (building a page changes its widgets)
        # a record that could not be shown (its folder is on a drive not plugged in) is kept: what is saved is that
        # record with the fields the user has changed since, so it comes back whole once it can be shown again
        self._held: Optional[Dict[str, Any]] = None
        self._touched: set = set()
        for name, f in self.fields.items():
            for sig in f.signals:
                sig.connect(lambda *_, n=name: self._changed(n))

    def names(self) -> List[str]:
        return list(self.fields)

    def values(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for name, f in self.fields.items():
            if f.spread:
                out.update(f.get())
            else:
                out[name] = f.get()
        return out

    def _changed(self, name: str) -> None:
        if not self._paused:
            self._touched.add(name)
            self.save()

    def save(self, *_: Any) -> None:
        if self._paused:
            return
        if self._held is None:
            settings().save_form(self.key, self.values())
            return
        record = dict(self._held)  # the unshown record, with what the user has changed since
        for name in self._touched:
            f = self.fields[name]
            if f.spread:
                record.update(f.get())
            else:
                record[name] = f.get()
        settings().save_form(self.key, record)

    def problem(self, record: Mapping[str, Any]) -> str:
        """Why ``record`` cannot be shown whole ("" when it can)."""
        return next(iter(self.problems(record).values()), "")

    def problems(self, record: Mapping[str, Any]) -> Dict[str, str]:
        """{field: why it cannot be shown}, for each field of ``record`` that cannot."""
        out: Dict[str, str] = {}
        for name, f in self.fields.items():
            if f.spread:
                why = f.check(dict(record))
            elif name in record:
                why = f.check(record[name])
            else:
                continue
            if why:
                out[name] = why
        return out

    def restore(self) -> str:
        """Show last session's record, every field or none; returns why none ("" when restored or none saved).
        From now on every change is saved."""
        record = settings().load_form(self.key)
        self.why, self.partial, self._held, self._touched = "", False, None, set()
        try:
            if record is not None:
                problems = self.problems(record)
                self.why = "; ".join(problems.values())
                if not problems:
                    self.apply(record)
                else:
                    self._held = dict(record)
                    if all(self.fields[n].optional for n in problems):  # only folders are gone: show the rest
                        self.apply({k: v for k, v in record.items() if k not in problems})
                        self.partial = True
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:  # a damaged record: show nothing of it
            self.why, self._held = f"the saved settings are damaged ({e})", None
        finally:
            self._paused = False
        return self.why

    def apply(self, record: Mapping[str, Any]) -> None:
        """Show ``record`` (checked with :meth:`problem`); if a field still fails, every field is put back."""
        paused, self._paused = self._paused, True
        before = self.values()
        try:
            self._set_all(record)
        except Exception:
            self._set_all(before)
            raise
        finally:
            self._paused = paused

    def _set_all(self, record: Mapping[str, Any]) -> None:
        for name, f in self.fields.items():
            if f.spread:
                f.set(dict(record))
            elif name in record:
                f.set(record[name])

    def notice(self) -> str:
        """The sentence a page shows when last session's settings were not restored ("" when they were)."""
        if not self.why:
            return ""
        if self.partial:
            return f"Last session's settings are back, except: {self.why}."
        kept = (" They are kept (with what you change now) and come back when they can be shown." if self._held
                else "")
        return f"Last session's settings were not restored: {self.why}. This page starts with its defaults.{kept}"
