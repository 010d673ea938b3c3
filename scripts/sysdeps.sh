#!/usr/bin/env bash
# Install the Debian/Ubuntu libraries GAN Studio needs (Qt's runtime libraries, Xvfb for screenshots and offscreen
# window tests, binutils for PyInstaller, python3-venv). As root: apt-get installs what is missing. Otherwise:
# prints the exact apt line and carries on (make test still works offscreen where the Qt libraries are present).
set -u
need=(libgl1 libegl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3
      libglib2.0-0 libx11-xcb1 libxcb1 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0
      libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxcb-xfixes0 libxcb-sync1
      libxcb-shm0 xvfb xauth binutils fonts-dejavu-core)
command -v dpkg-query >/dev/null 2>&1 || { echo "sysdeps: not a Debian/Ubuntu system; install Qt 6's X11/EGL runtime libraries and Xvfb yourself"; exit 0; }
missing=()
for p in "${need[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # Ubuntu 24.04 renamed some libraries with a t64 suffix
    dpkg-query -W -f='${Status}' "${p}t64" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  fi
done
PY=${PYTHON:-python3}
if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then missing+=(python3-venv); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ]; then
  echo "sysdeps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "sysdeps: apt-get failed; install them by hand: sudo apt-get install ${missing[*]}"; exit 0; }
else
  echo "sysdeps: missing Debian packages. Install them with:"
  echo "    sudo apt-get install ${missing[*]}"
fi
exit 0
