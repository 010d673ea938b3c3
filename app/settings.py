"""Remembered settings (QSettings): window state, recent folders, last model, per-page choices.

``GANSTUDIO_SETTINGS=/path/file.ini`` makes it use that INI file (tests use a temp file).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from PySide6.QtCore import QSettings

_instance: Optional["Settings"] = None


class Settings:
    def __init__(self, path: Optional[str] = None):
        path = path or os.environ.get("GANSTUDIO_SETTINGS")
        if path:
            self.q = QSettings(path, QSettings.IniFormat)
        else:
            self.q = QSettings("GANStudio", "GANStudio")

    def get(self, key: str, default: Any = None, type_: Any = None) -> Any:
        if type_ is not None:
            v = self.q.value(key, default)
            try:
                if type_ is bool and isinstance(v, str):
                    return v.lower() in ("1", "true", "yes")
                return type_(v) if v is not None else default
            except (TypeError, ValueError):
                return default
        return self.q.value(key, default)

    def set(self, key: str, value: Any) -> None:
        self.q.setValue(key, value)

    def recent(self, key: str) -> List[str]:
        v = self.q.value(f"recent/{key}", [])
        if isinstance(v, str):
            return [v] if v else []
        return list(v or [])

    def push_recent(self, key: str, value: str, limit: int = 10) -> None:
        items = [value] + [x for x in self.recent(key) if x != value]
        self.q.setValue(f"recent/{key}", items[:limit])

    def last_dir(self, key: str = "open", *fallbacks: str) -> str:
        """The folder last used for ``key`` (else for the first of ``fallbacks`` that has one; else home)."""
        for k in (key, *fallbacks):
            r = self.recent(f"dir_{k}")
            if r and os.path.isdir(r[0]):
                return r[0]
        return os.path.expanduser("~")

    def set_last_dir(self, path: str, key: str = "open") -> None:
        d = path if os.path.isdir(path) else os.path.dirname(path)
        if d:
            self.push_recent(f"dir_{key}", d)

    def save_form(self, key: str, values: Dict[str, Any]) -> None:
        """Remember every field of a page's form as ONE record, so a restart restores all of them or none."""
        self.q.setValue(f"forms/{key}", json.dumps(values, sort_keys=True))

    def load_form(self, key: str) -> Optional[Dict[str, Any]]:
        """The record ``save_form`` wrote, or None (never saved, or unreadable)."""
        raw = self.q.value(f"forms/{key}", "")
        try:
            data = json.loads(raw) if isinstance(raw, str) and raw else None
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def sync(self) -> None:
        self.q.sync()


def settings() -> Settings:
    global _instance
    if _instance is None:
        _instance = Settings()
    return _instance


def reset_settings(path: Optional[str] = None) -> Settings:
    """Replace the shared instance (tests)."""
    global _instance
    _instance = Settings(path)
    return _instance
