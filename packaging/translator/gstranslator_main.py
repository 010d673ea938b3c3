"""PyInstaller entry point of the exported translator (``NAME`` in the built folder)."""
import sys

from gstranslator.main import main

if __name__ == "__main__":
    sys.exit(main())
