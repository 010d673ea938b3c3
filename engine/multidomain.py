"""Multi-domain (StarGAN, task ``translate_multi``) models: their domain names and the target-domain choice.

A StarGAN generator is called as ``G(x, target)``; its model file lists the domain names in ``meta["domains"]`` (in
label order). :func:`for_domain` turns the generator into a plain image-to-image module for one target domain
(:class:`engine.models.stargan.FixedTarget`, which feeds the one-hot label as extra input planes), so the
:class:`engine.inference.Translator` (sizes, tiles, precision) serves it like any other translation model.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch

from .errors import ConfigError

MULTI_TASK = "translate_multi"
TRANSLATE_TASKS = ("translate", MULTI_TASK)


def is_multi_domain(info: Any) -> bool:
    """``info``: a :class:`engine.library.ModelInfo` (or anything with ``task``)."""
    return getattr(info, "task", "") == MULTI_TASK


def domain_names(meta: Dict[str, Any]) -> List[str]:
    """The domain names of a multi-domain model file, in label order ("domain 1", ... if the file has none)."""
    names = [str(n) for n in (meta.get("domains") or [])]
    if names:
        return names
    n = int((meta.get("arch_kwargs") or {}).get("n_domains", 0) or 0)
    return [f"domain {i + 1}" for i in range(n)]


def default_domain(names: List[str]) -> str:
    """The domain used when none is chosen: the second one (the first folder of a run is usually the source
    photos, so translating into it would change little); the only one if there is one."""
    if not names:
        raise ConfigError("The multi-domain model lists no domains in its metadata.")
    return names[1] if len(names) > 1 else names[0]


def resolve_domain(info: Any, domain: str = "") -> Optional[int]:
    """The label index for ``domain`` (a name, case-insensitive, or a 1-based number) of model ``info``.

    Returns ``None`` for single-domain models (and raises :class:`ConfigError` if a domain was asked of one); an
    empty ``domain`` picks :func:`default_domain`."""
    domain = (domain or "").strip()
    if not is_multi_domain(info):
        if domain:
            raise ConfigError(f"The model {info.name!r} translates into one fixed domain ({info.task} model), so it "
                              f"takes no target domain; --domain only applies to multi-domain (StarGAN) models.")
        return None
    names = domain_names(info.meta)
    if not domain:
        domain = default_domain(names)
    low = domain.lower()
    for i, n in enumerate(names):
        if n.lower() == low:
            return i
    if domain.isdigit() and 1 <= int(domain) <= len(names):
        return int(domain) - 1
    valid = ", ".join(repr(n) for n in names)
    raise ConfigError(f"The model {info.name!r} has no domain called {domain!r}. Valid domains: {valid}.")


def for_domain(module: torch.nn.Module, info: Any, domain: str = "") -> torch.nn.Module:
    """The module to translate with: ``module`` itself for single-domain models, else the generator fixed to the
    chosen target domain."""
    index = resolve_domain(info, domain)
    if index is None:
        return module
    from .models.stargan import FixedTarget

    n = getattr(module, "n_domains", None)
    if n is not None and index >= n:
        raise ConfigError(f"The model {info.name!r} lists more domains than its generator has labels ({n}).")
    return FixedTarget(module, index)


def domain_label(info: Any, domain: str = "") -> str:
    """The chosen domain's name for messages ("" for single-domain models)."""
    index = resolve_domain(info, domain)
    return "" if index is None else domain_names(info.meta)[index]
