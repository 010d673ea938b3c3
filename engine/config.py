"""Config is data: dataclasses with defaults and validation, JSON round trip, saved in every checkpoint.

Every settings object of the engine derives from :class:`Config`. ``to_dict`` gives plain JSON types (never an
argparse Namespace, which breaks ``weights_only`` loading); ``from_dict`` rejects unknown keys with a clear message
and converts nested configs.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar

from .errors import ConfigError

T = TypeVar("T", bound="Config")


def _scalar(owner: str, name: str, t: type, v: Any) -> Any:
    """``v`` as the setting's type (an int is a fine float), or a ConfigError that names the setting."""
    if v is None:  # an unset value of an older file: the dataclass decides
        return v
    if t is float and isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if t is int and isinstance(v, float) and v.is_integer():  # 5.0 in a hand-edited file
        return int(v)
    if isinstance(v, t) and (t is bool or not isinstance(v, bool)):
        return v
    kind = {int: "a whole number", float: "a number", str: "text"}.get(t, "true or false")
    raise ConfigError(f"{owner}: the setting {name} must be {kind}; got {v!r}")


@dataclasses.dataclass
class Config:
    def validate(self) -> None:
        """Override to check values; raise :class:`ConfigError` with a user-facing message."""

    def __post_init__(self) -> None:
        _check_finite(self)
        self.validate()

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, Config) else _plain(v)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls: Type[T], data: Dict[str, Any], *, strict: bool = True) -> T:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown and strict:
            raise ConfigError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for k, v in data.items():
            if k not in names:
                continue
            t = hints.get(k)
            if isinstance(t, type) and issubclass(t, Config) and isinstance(v, dict):
                v = t.from_dict(v, strict=strict)
            elif t in (tuple, typing.Tuple) or typing.get_origin(t) is tuple:
                v = tuple(v)
            elif t in (int, float, str, bool):  # a hand-edited file: say which setting, not a TypeError deep inside
                v = _scalar(cls.__name__, k, t, v)
            kwargs[k] = v
        try:
            return cls(**kwargs)
        except TypeError as e:
            raise ConfigError(f"{cls.__name__}: {e}") from None

    @classmethod
    def from_json(cls: Type[T], text: str) -> T:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{cls.__name__}: not valid JSON ({e})") from None

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)

    def save(self, path: Path) -> None:
        from .fsutil import atomic_write_text

        atomic_write_text(Path(path), self.to_json() + "\n")

    @classmethod
    def load(cls: Type[T], path: Path) -> T:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"Cannot read settings file {path}: {e.strerror or e}") from None
        return cls.from_json(text)


def _plain(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def _check_finite(cfg: "Config") -> None:
    """No setting may be NaN or infinite (``--lr inf`` would train on NaN); checked before ``validate``."""
    import math

    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        vals = v if isinstance(v, (list, tuple)) else (v,)
        if any(isinstance(x, float) and not math.isfinite(x) for x in vals):
            raise ConfigError(f"{f.name.replace('_', ' ')} must be a finite number; got {v!r}")


def check(cond: bool, message: str) -> None:
    """``check(size % 4 == 0, "size must be a multiple of 4")`` raises :class:`ConfigError` when false."""
    if not cond:
        raise ConfigError(message)


def check_choice(name: str, value: Any, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")


# --- options: what a user interface may show of a config field -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class Option:
    """A config field a user sets from the command line (and that a GUI may show). ``choices`` is a tuple or a
    function returning the names (read from a registry when asked, so a newly registered entry appears)."""

    name: str  # the field
    help: str
    flag: str  # "--gan-loss"; for a bool field the switch that flips the default ("--no-flip", "--dropout")
    type: Any  # int, float, str, bool, tuple, or a nested Config class
    default: Any
    choices_fn: Any = None
    metavar: str = ""
    arch: bool = False  # part of the network's architecture (a fine-tuning start model may supply it)

    def choices(self) -> Tuple[str, ...]:
        c = self.choices_fn
        return tuple(c() if callable(c) else c) if c is not None else ()


def option(default: Any = dataclasses.MISSING, help: str = "", *, flag: str = "", choices: Any = None,
           metavar: str = "", arch: bool = False, default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with command-line metadata::

        gan_loss: str = option("lsgan", "GAN loss", choices=LOSSES.names)

    A subclass may re-declare the field with a new plain default; the option found first up the class hierarchy
    keeps its help, flag and choices."""
    meta = {"option": dict(help=help, flag=flag, choices=choices, metavar=metavar, arch=arch)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def options_of(cls: type) -> List[Option]:
    """The :class:`Option` s of a config class in field order, with this class's defaults."""
    hints = typing.get_type_hints(cls)
    out: List[Option] = []
    for f in dataclasses.fields(cls):
        meta = _option_meta(cls, f.name)
        if meta is None:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        typ = hints.get(f.name, type(default))
        if typing.get_origin(typ) is tuple:
            typ = tuple
        flag = meta["flag"] or f.name.replace("_", "-")
        if typ is bool:
            flag = f"no-{flag}" if default else flag
        out.append(Option(f.name, meta["help"], f"--{flag}", typ, default, meta["choices"], meta["metavar"],
                          meta["arch"]))
    return out


def _option_meta(cls: type, name: str) -> Optional[Dict[str, Any]]:
    for klass in cls.__mro__:
        f = getattr(klass, "__dataclass_fields__", {}).get(name)
        if f is not None and "option" in f.metadata:
            return f.metadata["option"]
    return None
