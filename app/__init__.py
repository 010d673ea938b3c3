"""GAN Studio desktop application (PySide6). ``app.cli`` imports no Qt for its headless subcommands."""
