# Replaces PyInstaller's hook for PySide6.QtCore to leave out Qt's translation catalogues (~7 MB): the translator's
# texts are English and it uses no Qt dialogs whose strings would need them.
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
datas = [d for d in datas if "/translations" not in str(d[1]).replace("\\", "/")]
