"""Work around a fatal reference-count bug of PySide6 6.12.0 on Python 3.11.

In that combination most ``void`` Qt methods (``QPainter.setPen``, ``drawEllipse``, ``QPainterPath.moveTo``,
``QStatusBar.showMessage``...) return ``None`` without taking a reference to it, so every call lowers ``None``'s
reference count by one. A GUI process starts with about 60,000 references to ``None``; once they are used up Python
aborts with "Fatal Python error: none_dealloc: deallocating None". Live views that paint thousands of items a second
hit that within a minute; any page does within hours.

Python 3.12 made ``None`` immortal (PEP 683), which is why the bug is invisible there. :func:`install` does the same by
hand: if a void Qt call is seen to drop ``None``'s count, it adds 2**60 references (``None`` is never freed anyway), so
the count cannot reach zero in the lifetime of any process. It is a no-op on fixed versions and on Python >= 3.12.
Remove this module when the project requires a PySide6 without the bug or Python >= 3.12.
"""
from __future__ import annotations

import ctypes
import sys

_PIN = 1 << 60
_installed = False


def bug_present() -> bool:
    """True when a void Qt method call lowers ``None``'s reference count (the PySide6 6.12.0 / Python 3.11 bug)."""
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QPointF

    pt = QPointF(0.0, 0.0)
    before = sys.getrefcount(None)
    for _ in range(8):
        pt.setX(1.0)
    return sys.getrefcount(None) < before


def install() -> bool:
    """Pin ``None``'s reference count if the bug is present. Returns True when it did (once per process)."""
    global _installed
    if _installed or not bug_present():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += _PIN
    _installed = True
    return True
