"""The window fits the screen and no page resizes it: starting the Lab (whose status text changes many times a second)
leaves the width alone, every page fits a 1366×768 laptop, and an over-wide saved geometry is clamped (issue 18,
item 4)."""
from __future__ import annotations

from PySide6.QtCore import QRect


LAPTOP = (1366, 768)



def test_starting_the_lab_does_not_widen_the_window_and_every_page_fits(qtbot, open_window):
    win = open_window()
    avail = win.screen().availableGeometry()
    size = win.size()
    assert size.width() <= avail.width() and size.height() <= avail.height()
    for name in win.pages:  # showing any page keeps the size, and the window could shrink to a laptop
        win.show_page(name)
        qtbot.wait(30)
        assert win.size() == size, name
        hint = win.minimumSizeHint()
        assert hint.width() <= LAPTOP[0] - 16 and hint.height() <= LAPTOP[1] - 80, (name, hint)
    lab = win.show_page("lab")
    b = lab.sides[1].settings  # the longest title a side can get (a helper's pass: the page grew to 1538 px)
    b.loss.setCurrentIndex(b.loss.findData("wgan"))
    b.minibatch.setCurrentIndex(b.minibatch.count() - 1)
    b.d_steps.setValue(5)
    b.spectral.setChecked(True)
    lab.start()
    qtbot.waitUntil(lambda: lab.snapshots >= 3, timeout=30000)
    lab.status.setText("step 123,456 (49 steps/s per side) " + "and a very long message " * 10)
    qtbot.wait(50)
    assert win.size() == size and win.minimumSizeHint().width() <= LAPTOP[0] - 16
    side_bar = win.pages["lab"].mapTo(win, lab.rect().topLeft()).x()  # the page list left of the pages
    assert len(lab.sides[1].title.text()) > 60  # the page itself (it scrolls in its area) still fits a laptop:
    assert lab.minimumSizeHint().width() <= LAPTOP[0] - side_bar - 16  # no sideways scrolling to reach Start
    lab.stop()
    qtbot.waitUntil(lambda: lab.job is None, timeout=20000)
    win.close()


def test_an_over_wide_saved_geometry_is_clamped_to_the_screen(qtbot, open_window):
    win = open_window()
    avail = win.screen().availableGeometry()
    win.setGeometry(QRect(avail.x() + 50, avail.y() + 40, avail.width() + 456, avail.height() + 300))
    win.close()  # saves the geometry, as a window on a bigger screen (or an old version) did

    win2 = open_window()
    assert win2.width() <= avail.width() and win2.height() <= avail.height()
    assert win2.x() >= avail.x() and win2.x() + win2.width() <= avail.right() + 1
    win2.close()
