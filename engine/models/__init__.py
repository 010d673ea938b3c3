"""Model architectures. Importing this package registers the built-in ones in ``engine.registry.MODELS``."""
from . import networks  # noqa: F401
from . import stargan  # noqa: F401
from . import vaegan  # noqa: F401
