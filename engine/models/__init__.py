"""Model architectures. Importing this package registers the built-in ones in ``engine.registry.MODELS``."""
from . import dcgan, mobile, networks, stargan, stylegan, stylegan_d, vaegan  # noqa: F401
