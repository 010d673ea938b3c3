"""Name -> builder registries for models, losses, metrics and tasks.

    @register_model("resnet_9blocks")
    def resnet_9blocks(**cfg): ...

    net = get_model("resnet_9blocks", input_nc=3)

The GUI lists what the registries hold; the CLI validates names against them.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List

from .errors import ConfigError


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._items: Dict[str, Callable[..., Any]] = {}
        self._meta: Dict[str, Dict[str, Any]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._items and self._items[name] is not fn:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = fn
            self._meta[name] = dict(meta, doc=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
            return fn

        return deco

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(f"Unknown {self.kind} {name!r}. Known: {', '.join(sorted(self._items)) or 'none'}.") from None

    def build(self, name: str, **kwargs: Any) -> Any:
        return self.get(name)(**kwargs)

    def meta(self, name: str) -> Dict[str, Any]:
        self.get(name)
        return dict(self._meta[name])

    def names(self, **where: Any) -> List[str]:
        return sorted(n for n, m in self._meta.items() if all(m.get(k) == v for k, v in where.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))


MODELS = Registry("model")
LOSSES = Registry("loss")
METRICS = Registry("metric")
TASKS = Registry("task")


def register_model(name: str, **meta: Any):
    return MODELS.register(name, **meta)


def get_model(name: str, **kwargs: Any):
    _ensure_builtin()
    return MODELS.build(name, **kwargs)


def register_loss(name: str, **meta: Any):
    return LOSSES.register(name, **meta)


def register_metric(name: str, **meta: Any):
    return METRICS.register(name, **meta)


def register_task(name: str, **meta: Any):
    return TASKS.register(name, **meta)


def _ensure_builtin() -> None:
    """Import the modules that register the built-in entries (lazily, to keep imports cheap)."""
    from . import models  # noqa: F401
