"""Name -> builder registries for models, losses, metrics and tasks.

    @register_model("resnet_9blocks", role="generator", task="translate")
    def resnet_9blocks(**cfg): ...

    from engine.models import get_model      # importing engine.models registers the built-in networks
    net = get_model("resnet_9blocks", input_nc=3)

A leaf module: it imports nothing of the engine's but errors. Every choice list (the Train page, the family configs,
the CLI) reads the names from these registries; the training families use the same :class:`Registry` type
(``engine.training.core.FAMILIES``).
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

    def unregister(self, name: str) -> None:
        """Remove an entry (a plug-in that is unloaded; tests that register toys)."""
        self._items.pop(name, None)
        self._meta.pop(name, None)

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

    def in_order(self) -> List[str]:
        """Names in the order they were registered (for lists shown in that order)."""
        return list(self._items)

    def names(self, **where: Any) -> List[str]:
        return sorted(n for n, m in self._meta.items() if all(m.get(k) == v for k, v in where.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))


MODELS = Registry("model")  # networks; each registers itself where it is defined (engine.models.*)
LOSSES = Registry("loss")  # GAN losses (engine.losses)
METRICS = Registry("metric")  # evaluation metrics (engine.metrics.registry_defs)
IMPORTERS = Registry("importer")  # foreign checkpoint readers: state dict -> ImportedModel or None
MINIBATCH_LAYERS = Registry("minibatch layer")  # the Lab discriminator's minibatch layers (engine.lab.nets)


def register_model(name: str, **meta: Any):
    return MODELS.register(name, **meta)


def register_loss(name: str, **meta: Any):
    return LOSSES.register(name, **meta)


def register_metric(name: str, **meta: Any):
    return METRICS.register(name, **meta)


def register_importer(name: str, **meta: Any):
    return IMPORTERS.register(name, **meta)


def register_minibatch_layer(name: str, **meta: Any):
    return MINIBATCH_LAYERS.register(name, **meta)
