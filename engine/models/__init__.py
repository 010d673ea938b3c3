"""Model architectures. Importing this package registers the built-in ones in ``engine.registry.MODELS``."""
from . import dcgan, networks, stylegan, stylegan_d  # noqa: F401
