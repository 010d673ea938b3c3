"""GAN Studio engine: models, training, inference, metrics and export. Never imports Qt."""

__version__ = "0.1.0"
