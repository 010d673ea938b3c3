"""Choosing library models on a page: :class:`ModelCatalog` (the library, listed once, announcing changes) and
:class:`ModelPicker` (a combo box, or a list with check boxes, of the models a page can use).

Pages never list the library themselves and never call one another to say that a model appeared: whoever changes the
library (Import, a training checkpoint) calls ``window.catalog.refresh()`` and every picker reloads, keeping its
selection.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from app.settings import settings
from app.widgets.elided_label import elide_rows
from engine.library import ModelInfo, ModelLibrary, pick_default


class ModelCatalog(QObject):
    """The models of a :class:`ModelLibrary`, read once and re-read on :meth:`refresh`, which emits ``changed``."""

    changed = Signal()

    def __init__(self, library: ModelLibrary, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.library = library
        self._models: Optional[List[ModelInfo]] = None
        self.problems: list = []

    def models(self, tasks: Optional[Iterable[str]] = None) -> List[ModelInfo]:
        if self._models is None:
            self._read()
        wanted = None if tasks is None else set(tasks)
        return [m for m in self._models if wanted is None or m.task in wanted]

    def find(self, model_id: str) -> Optional[ModelInfo]:
        return next((m for m in self.models() if m.id == model_id), None)

    def refresh(self) -> None:
        """Read the library again (a model was imported, trained or deleted) and tell every page."""
        self._read()
        self.changed.emit()

    def _read(self) -> None:
        self._models = self.library.list()
        self.problems = list(self.library.problems)


def catalog_of(window) -> ModelCatalog:
    """The window's catalog (made on first use, so pages work with any window that has a ``library``)."""
    cat = getattr(window, "catalog", None)
    if cat is None:
        cat = window.catalog = ModelCatalog(window.library, window)
    return cat


class ModelPicker(QWidget):
    """The models of some tasks, as a combo box (``multi=False``) or a list of check boxes (``multi=True``).

    ``picked`` is the model the user picked in the combo ("" until they pick one; a model shown by default is never
    a pick), announced by ``pickChanged(id)``: it is what a page remembers (``app.form_memory.picker_field``), and
    :meth:`pick` shows it again. ``key`` makes the picker remember by itself in the settings (``<key>``: the pick;
    a list of ids for the check list); pages leave it empty and remember the pick with the rest of their form.
    ``fallback`` is the id shown when nothing is picked (a partial model from an unfinished training is shown first
    only when the user picked it, see :func:`engine.library.pick_default`); ``text`` makes an item's label; ``order``
    sorts. ``modelChanged(info or None)`` fires when the current model changes (not when a reload keeps it);
    ``checkedChanged(ids)`` when ticks change. ``speed=True`` (combo only) lists one entry per model and adds a
    Fast / Full toggle (:class:`app.widgets.speed_toggle.SpeedToggle`; ``speed_key`` also remembers its choice):
    ``current()`` is then the fast version of the entry when Fast is chosen and the entry has one.
    """

    modelChanged = Signal(object)
    checkedChanged = Signal(list)
    pickChanged = Signal(str)

    def __init__(self, catalog: ModelCatalog, tasks: Sequence[str], *, key: str = "", fallback: str = "",
                 text: Optional[Callable[[ModelInfo], str]] = None, order: Optional[Callable] = None,
                 multi: bool = False, label: str = "Model:", speed: bool = False, speed_key: str = "",
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.catalog, self.tasks, self.key, self.fallback, self.multi = catalog, tuple(tasks), key, fallback, multi
        self.text = text or (lambda m: m.label)
        self.order = order
        self.models: List[ModelInfo] = []
        self.versions: list = []  # engine.fastmodels.Versions per listed model (with speed_key)
        self.speed = None
        self._current_id = ""
        self.picked = (settings().get(key, "") if key and not multi else "") or ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(label)
        if label:
            lay.addWidget(self.label)
        if multi:
            self.list = QListWidget()
            self.list.setToolTip("Tick the models to use; hover over one for its whole name and description")
            elide_rows(self.list)  # long names are cut in the middle, never scrolled sideways
            self.list.itemChanged.connect(self._ticks_changed)
            lay.addWidget(self.list, 1)
        else:
            self.combo = QComboBox()
            self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            self.combo.setMinimumContentsLength(16)
            self.combo.currentIndexChanged.connect(self._index_changed)
            self.combo.activated.connect(lambda _i: self._remember())  # only a user's pick is remembered
            lay.addWidget(self.combo, 1)
            if speed or speed_key:
                from app.widgets.speed_toggle import SpeedToggle

                self.speed = SpeedToggle(speed_key)
                self.speed.changed.connect(self._index_changed)
                lay.addWidget(self.speed)
        catalog.changed.connect(self.reload)
        self.reload()

    # --- listing -----------------------------------------------------------------------------------------
    def reload(self) -> None:
        """List the catalog's models again, keeping the current model (or ticks) when it is still there."""
        models = self.catalog.models(self.tasks)
        if self.speed is not None:
            from engine.fastmodels import versions

            self.versions = versions(models)
            models = [v.full for v in self.versions]
        self.models = sorted(models, key=self.order) if self.order else models
        if self.versions:
            by_id = {v.full.id: v for v in self.versions}
            self.versions = [by_id[m.id] for m in self.models]
        if self.multi:
            self._fill_list()
        else:
            self._fill_combo()

    def _fill_combo(self) -> None:
        idx = self._index_of(self._current_id)
        if idx < 0:
            idx = self._index_of(self.picked) if self.versions else -1
            if idx < 0:
                idx = pick_default(self.models, self.picked, self.fallback)
        self.combo.blockSignals(True)
        self.combo.clear()
        for m in self.models:
            self.combo.addItem(self.text(m), m.id)
            self.combo.setItemData(self.combo.count() - 1, self._tip(m), Qt.ToolTipRole)
        self.combo.setCurrentIndex(idx)
        self.combo.blockSignals(False)
        self._fit_popup()
        self._index_changed()

    def _fit_popup(self) -> None:
        """The drop-down is as wide as the longest name, so no name is cut off even where the combo is narrow."""
        fm = self.combo.fontMetrics()
        widest = max((fm.horizontalAdvance(self.combo.itemText(i)) for i in range(self.combo.count())), default=0)
        self.combo.view().setMinimumWidth(widest + 48)
        cur = self.current()
        self.combo.setToolTip(self._tip(cur) if cur else "No models of this kind in the library yet")

    @staticmethod
    def _tip(m: ModelInfo) -> str:
        parts = [m.label, m.description or m.arch]
        return "\n".join(p for p in parts if p)

    def _fill_list(self) -> None:
        ticked = set(self.checked_ids()) if self.list.count() else set(self._saved_ticks())
        self.list.blockSignals(True)
        self.list.clear()
        for m in self.models:
            it = QListWidgetItem(self.text(m))
            it.setData(Qt.UserRole, m.id)
            it.setToolTip("\n".join(p for p in (self.text(m), m.description or m.arch) if p))  # the whole name
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked if m.id in ticked else Qt.Unchecked)
            self.list.addItem(it)
        self.list.blockSignals(False)
        self.checkedChanged.emit(self.checked_ids())

    def _saved_ticks(self) -> List[str]:
        saved = settings().get(self.key, []) if self.key else []
        return [saved] if isinstance(saved, str) and saved else list(saved or [])

    # --- the combo ---------------------------------------------------------------------------------------
    def listed(self) -> Optional[ModelInfo]:
        """The model of the combo's entry (with ``speed_key``: the full model, whichever version runs)."""
        if self.multi:
            return None
        i = self.combo.currentIndex()
        return self.models[i] if 0 <= i < len(self.models) else None

    def current(self) -> Optional[ModelInfo]:
        """The model the page uses: the entry, or its fast version when Fast is chosen."""
        m = self.listed()
        if m is None or self.speed is None:
            return m
        return self.speed.pick(self.versions[self.combo.currentIndex()])

    def _index_of(self, model_id: str) -> int:
        """Index of the entry holding ``model_id`` (itself, or as its fast version); -1 if none."""
        for i, m in enumerate(self.models):
            fast = self.versions[i].fast if self.versions else None
            if model_id and (m.id == model_id or (fast is not None and fast.id == model_id)):
                return i
        return -1

    def has(self, model_id: str) -> bool:
        """Whether ``model_id`` is listed (with a speed toggle: as an entry or as an entry's fast version)."""
        if self.multi:
            return any(m.id == model_id for m in self.models)
        return self._index_of(model_id) >= 0

    def pick(self, model_id: str) -> bool:
        """Show ``model_id`` as the user's pick (a remembered one); "" forgets the pick. False if not listed."""
        if not model_id:
            self._set_picked("")
            return True
        return self.select(model_id)

    def select(self, model_id: str) -> bool:
        """Make ``model_id`` current (re-reading the library once when it is not listed); False if unknown."""
        if self._index_of(model_id) < 0:
            self.catalog.refresh()
        idx = self._index_of(model_id)
        if idx < 0:
            return False
        self.combo.setCurrentIndex(idx)
        self._remember()
        return True

    def _remember(self) -> None:
        m = self.listed()
        if m is not None:
            self._set_picked(m.id)

    def _set_picked(self, model_id: str) -> None:
        if self.key:
            settings().set(self.key, model_id)
        if model_id != self.picked:
            self.picked = model_id
            self.pickChanged.emit(model_id)

    def _index_changed(self, *_) -> None:
        if self.speed is not None:
            i = self.combo.currentIndex()
            self.speed.set_versions(self.versions[i] if 0 <= i < len(self.versions) else None)
        m = self.current()
        mid = m.id if m else ""
        self._fit_popup()
        if mid != self._current_id or not mid:
            self._current_id = mid
            self.modelChanged.emit(m)

    # --- the check list ----------------------------------------------------------------------------------
    def checked_ids(self) -> List[str]:
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked]

    def checked(self) -> List[ModelInfo]:
        ids = set(self.checked_ids())
        return [m for m in self.models if m.id in ids]

    def set_checked(self, ids: Iterable[str]) -> None:
        ids = set(ids)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.Checked if it.data(Qt.UserRole) in ids else Qt.Unchecked)
        self.list.blockSignals(False)
        self._ticks_changed()

    def _ticks_changed(self, *_) -> None:
        ids = self.checked_ids()
        if self.key:
            settings().set(self.key, ids)
        self.checkedChanged.emit(ids)
