"""Training: the shared trainer core (:mod:`.core`) and one module per GAN family (:mod:`.cyclegan`, ...).

Import :mod:`engine.training.core` for ``train_task``, ``get_trainer``, ``build_config``, ``resume_config`` (family
modules are discovered and registered on first use), :mod:`engine.training.runs` for ``list_runs``.
"""
