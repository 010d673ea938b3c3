"""Model architectures. Importing this package registers the built-in ones in ``engine.registry.MODELS``."""
from . import networks  # noqa: F401
