"""The base of the main window's pages."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class Page(QWidget):
    """A page of the main window, with what every page reaches through it: the window (``window_``), its job bridge
    (``bridge``) and model library (``library``)."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.bridge = window.bridge
        self.library = window.library
