"""In-app help: a short guide per page (what it does, the two or three things to try) shown by Help ▸ Guide to this
page (F1) beside the window, non-modal, following the page that is shown."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True)
class Guide:
    title: str
    what: str
    tries: List[str]

    def html(self) -> str:
        items = "".join(f"<li>{t}</li>" for t in self.tries)
        return f"<h3>{self.title}</h3><p>{self.what}</p><p><b>Things to try</b></p><ol>{items}</ol>"


GUIDES: Dict[str, Guide] = {
    "translate": Guide(
        "Translate", "Turns your photos into another style with a translation model (a CycleGAN or pix2pix "
        "generator): the original on the left, the result on the right.",
        ["Drop a photo on the window (or File ▸ Open images…): it is translated with the model shown at the top.",
         "Pick another model in the list; <i>Card</i> tells what it was trained on and how far.",
         "Add a folder of photos and use <i>Export all…</i> to translate every one of them into a folder."]),
    "draw": Guide(
        "Draw", "Sketch on the left and watch a sketch-to-image model paint the result on the right as you draw.",
        ["Pick a sketch model, draw a few lines with the pen and look at the result update.",
         "Use <i>Sketch from photo</i> to turn a photo into the model's kind of sketch, then edit it.",
         "Save the result, or the sketch, to keep it."]),
    "latent": Guide(
        "Latent space", "Explores what a generator (StyleGAN, VAE-GAN) can make: random seeds, the truncation "
        "trade-off between quality and variety, and directions that change one thing at a time.",
        ["Click through a few seeds and lower the truncation to see typical faces.",
         "Move a direction slider to see what that direction changes.",
         "Project your own photo to edit it along the same directions."]),
    "train": Guide(
        "Train", "Trains your own translation model from two folders of images, A (e.g. photos) and B (e.g. "
        "paintings), with FastCUT (fast, A → B), CUT or CycleGAN (both ways). No pairs are needed. The header shows "
        "the run's state: Running, Paused, Cancelled, Finished or Failed.",
        ["Drop a folder of photos on Folder A and a folder of paintings on Folder B (or use Choose…).",
         "Pick <i>Smoke test</i> and Start: in seconds you see the losses, a sample grid and the first models in "
         "the Translate page's list (marked partial until the run finishes).",
         "Pause, Cancel or quit at any time: the run is saved and can be resumed from <i>Unfinished runs</i>."]),
    "lab": Guide(
        "GAN Lab", "Trains tiny GANs live on 2-D toy data or digits, two configurations side by side, so you can "
        "see mode collapse, the decision surface and the gradients the generator follows.",
        ["Press Start with the default ring of 8 and watch the left column collapse onto a few modes.",
         "Compare with the right column (unrolled GAN) that covers all eight.",
         "Change the loss or learning rate of one side and Start again."]),
    "evaluate": Guide(
        "Evaluate", "Measures how close generated images are to real ones (FID, KID, precision/recall, "
        "diversity), with the uncertainty of each number and a line on what it means.",
        ["Choose a folder of real images and a folder of generated ones, then Run evaluation.",
         "Add a model and a test folder to compare several models in one table.",
         "Open a training run to chart its metrics over the steps."]),
    "export": Guide(
        "Export", "Turns models into something you can share: a standalone app that needs no Python, ONNX files "
        "with their model cards, or model files for other GAN Studio users.",
        ["Tick a model and export it as ONNX: the file is checked against the original.",
         "Build the standalone translator app and open the folder it was written to.",
         "Read the card of a model before you share it: it says where it came from and its licence."]),
}


#: a visible edge for the small help windows (without a window manager, e.g. in screenshots, they have no frame)
FLOAT_STYLE = "QDialog { border: 2px solid palette(highlight); background: palette(window); }"


class GuideDialog(QDialog):
    """A small non-modal window with the guide of the page that is shown."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("page_guide")
        self.setWindowTitle("Guide")
        self.setModal(False)
        self.setStyleSheet(FLOAT_STYLE)
        lay = QVBoxLayout(self)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        lay.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.resize(420, 340)

    def show_page(self, name: str) -> None:
        g = GUIDES.get(name)
        self.page = name
        self.setWindowTitle(f"Guide: {g.title}" if g else "Guide")
        self.text.setText(g.html() if g else "<p>No guide for this page yet.</p>")
