"""Pages of the main window, in sidebar order. Each module defines TITLE, ICON (a standard icon name or a path under
resources/icons) and ``create(window) -> QWidget``; a page may implement ``accept_paths(paths) -> bool`` for drops,
``on_shown()`` and ``shutdown()``."""

PAGE_MODULES = ["translate", "draw", "latent", "train", "lab", "evaluate", "export"]
