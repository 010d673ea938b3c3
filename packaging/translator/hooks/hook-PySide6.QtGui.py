# Replaces PyInstaller's hook for PySide6.QtGui (hooks given with hookspath take priority) to leave out what a desktop
# translator does not need: the GTK3 platform theme (it drags in GTK, cairo, pango and friends from the build
# machine, ~15 MB; the program looks the same with Qt's own theming and the xdg portal), the embedded-device and
# remote platforms (eglfs, vnc, KMS/Vulkan display, TUIO touch: they pull in QtNetwork and OpenSSL/Kerberos) and Qt's
# translation catalogues (the program's texts are English). xcb (X11), wayland, offscreen and minimal stay.
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

DROP = ("platformthemes/libqgtk3", "platforms/libqvnc", "platforms/libqeglfs", "platforms/libqminimalegl",
        "platforms/libqvkkhrdisplay", "platforms/libqlinuxfb", "/egldeviceintegrations/",
        "generic/libqtuiotouchplugin")

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [b for b in binaries if not any(d in str(b[0]).replace("\\", "/") for d in DROP)]
datas = [d for d in datas if "/translations" not in str(d[1]).replace("\\", "/")]
