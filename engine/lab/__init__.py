"""GAN Lab: small GANs trained live on 2-D toy data and 8x8 digits, every loss and remedy side by side.

- :mod:`.data`     toy distributions with known modes; the scikit-learn digits
- :mod:`.nets`     MLP G/D, minibatch discrimination / std-dev, spectral norm, label embedding, projection D
- :mod:`.unrolled` the unrolled discriminator (functional, leaves the real D unchanged)
- :mod:`.metrics`  modes covered and high-quality share; digits classifier histogram
- :mod:`.trainer`  one GAN's training step with every loss (``engine.losses``) and remedy
- :mod:`.views`    decision surface, gradient field, digit grids (numpy snapshots for the GUI)
- :mod:`.task`     the job task (``lab_task``), lockstep side by side; ``train_lab`` for the benchmark
"""
from .config import LabConfig, LabRun, losses, minibatch_choices  # noqa: F401
