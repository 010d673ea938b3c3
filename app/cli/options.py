"""Command-line options made from config field metadata (:func:`engine.config.option`), no Qt.

Every option defaults to None, so only what the user typed overrides the preset and the config's defaults. A nested
config field (e.g. pix2pix's ``sketch``) takes ``KEY=VALUE,...`` pairs of its fields; a field of the nested config
that has its own option (``--sketch-style``) is set by that flag.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Dict, Iterable

from engine.config import Config, Option, options_of
from engine.errors import ConfigError


def add_options(group, cls: type, skip: Iterable[str] = ()) -> None:
    """One argument per :class:`Option` of ``cls`` (in field order), into an argparse group or parser."""
    for opt in options_of(cls):
        if opt.name in skip:
            continue
        if _is_config(opt.type):
            group.add_argument(opt.flag, dest=opt.name, default=None, metavar=opt.metavar or "K=V,...",
                               help=opt.help)
            for sub in options_of(opt.type):
                _add(group, sub, dest=f"{opt.name}.{sub.name}")
        else:
            _add(group, opt, dest=opt.name)


def _add(group, opt: Option, dest: str) -> None:
    if opt.type is bool:
        group.add_argument(opt.flag, dest=dest, action="store_const", const=not opt.default, default=None,
                           help=f"off: {opt.help}" if opt.default else opt.help)
        return
    kw: Dict[str, Any] = dict(dest=dest, default=None, help=_help(opt))
    if opt.metavar:
        kw["metavar"] = opt.metavar
    if opt.type is tuple:
        kw["nargs"] = "+"
    else:
        kw["type"] = opt.type
    if opt.choices_fn is not None:
        kw["choices"] = opt.choices()
    group.add_argument(opt.flag, **kw)


def _help(opt: Option) -> str:
    if opt.type is tuple or opt.default in ("", None):
        return opt.help
    return f"{opt.help} (default {opt.default})"


def values_from_args(args: argparse.Namespace, cls: type, skip: Iterable[str] = ()) -> Dict[str, Any]:
    """The settings of ``cls`` the user gave on the command line (nested configs as dicts, validated)."""
    out: Dict[str, Any] = {}
    for opt in options_of(cls):
        if opt.name in skip:
            continue
        value = getattr(args, opt.name, None)
        if _is_config(opt.type):
            nested = _pairs(opt, value) if value is not None else {}
            for sub in options_of(opt.type):
                v = getattr(args, f"{opt.name}.{sub.name}", None)
                if v is not None:
                    nested[sub.name] = v
            if nested:
                opt.type.from_dict(nested)  # a clear message for a bad value, before any work
                out[opt.name] = nested
        elif value is not None:
            out[opt.name] = tuple(value) if opt.type is tuple else value
    return out


def arch_given(args: argparse.Namespace, cls: type) -> bool:
    """Did the user set any architecture option (so a fine-tuning start model must not override it)?"""
    return any(getattr(args, o.name, None) is not None for o in options_of(cls) if o.arch)


def _is_config(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, Config)


def _pairs(opt: Option, text: str) -> Dict[str, Any]:
    """``low=40,high=120`` -> the nested config's fields (numbers; fields with their own flag are not keys)."""
    own = {o.name for o in options_of(opt.type)}
    types = {f.name: f.type for f in dataclasses.fields(opt.type) if f.name not in own}
    out: Dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in types:
            raise ConfigError(f"{opt.flag} takes KEY=VALUE pairs with keys {', '.join(types)}; got {part!r}.")
        conv = int if types[key] in (int, "int") else float
        try:
            out[key] = conv(value)
        except ValueError:
            raise ConfigError(f"{opt.flag} {key} needs a number, got {value!r}.") from None
    return out
