"""Latent editing: seeds, truncation, noise, style mixing, interpolation, edit directions, projection of photos."""
from .latent import Latent, LatentModel, z_for_seed  # noqa: F401
