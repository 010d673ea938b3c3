"""Entry point of the one-folder GAN Studio build (packaging/ganstudio.spec): the ``ganstudio`` command."""
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
