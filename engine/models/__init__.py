"""Model architectures. Importing this package registers the built-in ones in :data:`engine.registry.MODELS`
(each network registers itself where it is defined, as torchvision's models do)."""
from typing import Any

from ..registry import MODELS
from . import dcgan, mobile, multiscale_d, networks, stargan, stylegan, stylegan_d, vaegan  # noqa: F401


def get_model(name: str, **kwargs: Any):
    """Build the registered network ``name`` (a :class:`~engine.errors.ConfigError` names the known ones)."""
    return MODELS.build(name, **kwargs)
