"""What the Latent page does (its ``actions`` controller): every action submits a job through the bridge; renders use
``replace=True`` so a dragged slider never queues stale work."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QListWidgetItem

from app.settings import settings
from app.widgets.model_card import show_model_card
from app.widgets.save_dialog import ask_save_image
from app.widgets.save_path import ask_save_path, checked_save_path
from app.widgets.images import to_pixmap
from engine.editing.projection import ProjectConfig
from engine.imageio import load_image, save_image

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class LatentActions:
    """The Latent page's behaviour beyond its layout: rendering, seeds, directions, mixing, interpolation
    and photos (the page's ``actions`` controller)."""

    def __init__(self, page):
        self.page = page  # app.pages.latent.LatentPage
        self._planned_steps, self._caption_before = 0, ""  # of the projection running now
        self.interp_job = None  # the interpolation export running now

    # --- rendering ---------------------------------------------------------------------------------------
    def request_render(self):
        state = self.page.view_state()
        if state is None or self.page.bridge.manager.closed:  # a job's end arriving after the window closed
            return None
        session = self.page.session
        h = self.page.bridge.submit(lambda st, ctx: session.render(st), state, name="Render", kind="latent-render",
                                    replace=True)
        h.returned.connect(lambda img, s=session: self._rendered(s, img))
        h.failed.connect(lambda err: self.page.problems.add("Render", err.message))
        return h

    def _rendered(self, session, img) -> None:
        if session is not self.page.session:
            return
        self.page.last_render = img
        self.page.renders += 1
        self.page.view.set_image(img)

    def psi_changed(self) -> None:
        self.request_render()
        self.refresh_grid()

    def resample_noise(self) -> None:
        self.page.noise_seed += 1
        self.page.noise_mode.setCurrentIndex(self.page.noise_mode.findData("random"))
        self.request_render()

    # --- seeds -------------------------------------------------------------------------------------------
    def refresh_grid(self):
        if self.page.session is None:
            return None
        from app.pages.latent import GRID_PAGE

        start = self.page.start_seed.value()
        seeds = list(range(start, start + GRID_PAGE))
        self.page.grid.clear()
        for s in seeds:
            it = QListWidgetItem(str(s))
            it.setData(Qt.UserRole, s)
            it.setTextAlignment(Qt.AlignHCenter)
            self.page.grid.addItem(it)
        session, psi = self.page.session, self.page.psi.value() / 100
        h = self.page.bridge.submit(lambda ss, ctx: session.grid(ss, psi, ctx), seeds, name="Seed grid",
                                    kind="latent-grid", replace=True)
        h.partial.connect(lambda part, s=session: s is self.page.session and self.page._grid_part(part))
        h.failed.connect(lambda err: self.page.problems.add("Seeds", err.message))
        return h

    def page_seeds(self, direction: int) -> None:
        from app.pages.latent import GRID_PAGE

        self.page.start_seed.setValue(max(0, self.page.start_seed.value() + direction * GRID_PAGE))
        self.refresh_grid()

    def open_seed(self, seed: int):
        if self.page.session is None:
            return None
        self.page.current = self.page.session.seed(seed)
        self.page.caption.setText(f"Seed {seed}")
        return self.request_render()

    def save_image(self) -> None:
        if self.page.last_render is None:
            self.page.window_.notify("Nothing to save yet.")
            return
        name = (self.page.current.label if self.page.current else "image").replace(" ", "_") + ".png"
        chosen = ask_save_image(self.page, "Save image", str(Path(settings().last_dir("save")) / name))
        if chosen:
            path, overwrite = chosen
            settings().set_last_dir(str(path), "save")
            img = self.page.last_render
            h = self.page.bridge.submit(lambda p, ctx: save_image(p, img, overwrite=overwrite), path, name="Save",
                                        lane="io")
            h.returned.connect(lambda p: self.page.window_.notify(f"Saved {p}"))
            h.failed.connect(lambda err: self.page.problems.add("Save", err.message))

    def show_card(self) -> None:
        show_model_card(self.page, self.page.current_model())

    # --- directions --------------------------------------------------------------------------------------
    def compute_directions(self, method: str, k: int):
        if self.page.session is None:
            return None
        session = self.page.session
        self.page.edit_panel.compute_btn.setEnabled(False)
        h = self.page.bridge.submit(lambda cfg, ctx: session.compute_directions(cfg[0], cfg[1], ctx), (method, k),
                                    name=f"Find {method} directions", kind="latent-directions")
        h.returned.connect(self._directions_ready)
        h.failed.connect(lambda err: self.page.problems.add("Directions", err.message))
        h.finished.connect(lambda *_: self.page.edit_panel.compute_btn.setEnabled(True))
        self.page.window_.show_job(h, "Finding directions")
        return h

    def _directions_ready(self, ds) -> None:
        self.page.edit_panel.set_directions(list(ds.names))
        self.page.window_.notify(f"{len(ds)} edit directions ({ds.method}).")

    def save_directions(self) -> None:
        chosen = ask_save_path(self.page, "Save direction set", settings().last_dir("directions"),
                               "Direction sets (*.safetensors)", ".safetensors")
        if chosen and self.page.session is not None:
            self.save_directions_to(str(chosen[0]))

    def save_directions_to(self, path: str):
        settings().set_last_dir(path, "directions")
        session = self.page.session
        h = self.page.bridge.submit(lambda p, ctx: session.save_directions(p), path, name="Save directions", lane="io")
        h.returned.connect(lambda p: self.page.window_.notify(f"Saved directions to {p}"))
        h.failed.connect(lambda err: self.page.problems.add("Save directions", err.message))
        return h

    def load_directions(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.page, "Load direction set", settings().last_dir("directions"),
                                              "Direction sets (*.safetensors)")
        if path:
            self.load_directions_from(path)

    def load_directions_from(self, path: str):
        settings().set_last_dir(path, "directions")
        session = self.page.session
        h = self.page.bridge.submit(lambda p, ctx: session.load_directions(p), path, name="Load directions")
        h.returned.connect(self._directions_ready)
        h.failed.connect(lambda err: self.page.problems.add(Path(path).name, err.message))
        return h

    def mark_example(self, positive: bool) -> None:
        if self.page.current is None:
            return
        (self.page.positives if positive else self.page.negatives).append(self.page.current)
        self.page.edit_panel.set_examples(len(self.page.positives), len(self.page.negatives))

    def clear_examples(self) -> None:
        self.page.positives, self.page.negatives = [], []
        self.page.edit_panel.set_examples(0, 0)

    def create_direction(self, name: str):
        if self.page.session is None:
            return None
        pg = self.page
        session, pos, neg, psi = pg.session, list(pg.positives), list(pg.negatives), pg.psi.value() / 100
        h = self.page.bridge.submit(lambda n, ctx: session.add_user_direction(pos, neg, n, psi), name,
                                    name="Create direction", kind="latent-directions")
        h.returned.connect(lambda ds: (self._directions_ready(ds), self.clear_examples()))
        h.failed.connect(lambda err: self.page.problems.add("Direction", err.message))
        return h

    # --- mixing and interpolation ------------------------------------------------------------------------
    def mix_changed(self) -> None:
        if self.page.session is None:
            return
        seed_b = self.page.mix_panel.seed_b.value()
        session = self.page.session
        psi = self.page.psi.value() / 100  # read on the GUI thread, not in the job
        h = self.page.bridge.submit(lambda s, ctx: session.grid([s], psi), seed_b, name="Seed B",
                                    kind="latent-mixb", replace=True)
        h.returned.connect(lambda res: self.page.mix_panel.preview.setPixmap(
            to_pixmap(res[0][1]).scaled(96, 96, Qt.KeepAspectRatio, Qt.SmoothTransformation)))
        self.request_render()

    def add_current_seed(self) -> None:
        if self.page.current is not None and self.page.current.seed is not None:
            seeds = self.page.interp_panel.seed_list() if self.page.interp_panel.seeds.text().strip() else []
            self.page.interp_panel.seeds.setText(", ".join(str(s) for s in seeds + [self.page.current.seed]))

    def export_interpolation(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.page, "Export interpolation",
                                              str(Path(settings().last_dir("export")) / f"interpolation.{kind}"),
                                              "GIF (*.gif)" if kind == "gif" else "MP4 video (*.mp4)",
                                              options=QFileDialog.DontConfirmOverwrite)
        if path:
            chosen = checked_save_path(self.page, path if path.lower().endswith(f".{kind}") else f"{path}.{kind}")
            if chosen:  # asked before replacing an existing file
                self.export_interpolation_to(str(chosen[0]))

    def export_interpolation_to(self, path: str):
        if self.page.session is None:
            return None
        try:
            seeds = self.page.interp_panel.seed_list()
        except ValueError as e:
            self.page.problems.add("Interpolation", f"{e}; list seed numbers separated by commas.")
            return None
        settings().set_last_dir(path, "export")
        ip, session, psi = self.page.interp_panel, self.page.session, self.page.psi.value() / 100
        args = dict(frames_per_segment=ip.frames.value(), mode=ip.mode.currentData(), psi=psi,
                    fps=float(ip.fps.value()), size=int(ip.size.currentData()))
        h = self.page.bridge.submit(lambda p, ctx: session.interpolate([session.seed(s) for s in seeds], p, ctx=ctx,
                                                                       **args), path, name="Export interpolation")
        self.interp_job = h
        ip.set_running(True)
        ip.progress.setRange(0, 1000)
        ip.progress.setValue(0)
        h.progress.connect(lambda p: ip.progress.setValue(int(1000 * p.done / p.total) if p.total else 0))
        h.returned.connect(lambda p: self.page.window_.notify(f"Wrote {p}"))
        h.failed.connect(lambda err: self.page.problems.add("Interpolation", err.message))
        h.cancelled.connect(lambda: self.page.window_.notify("Interpolation export cancelled; nothing was written."))
        h.finished.connect(lambda *_: (ip.set_running(False), setattr(self, "interp_job", None)))
        return h

    def cancel_interpolation(self) -> None:
        if self.interp_job is not None:
            self.interp_job.cancel()

    # --- photos ------------------------------------------------------------------------------------------
    def accept_paths(self, paths) -> bool:
        if not paths:
            return False
        self.page.tabs.setCurrentWidget(self.page.photo_panel)
        self.load_photo(str(paths[0]), project=True)
        return True

    def open_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.page, "Open a photo", settings().last_dir("open"), IMAGE_FILTER)
        if path:
            settings().set_last_dir(path, "open")
            self.load_photo(path, project=True)

    def load_photo(self, path: str, project: bool = True):
        h = self.page.bridge.submit(lambda p, ctx: load_image(p).on_white(), path, name="Open photo", lane="io")
        h.returned.connect(lambda rgb: self._photo_loaded(rgb, Path(path).name, project))
        h.failed.connect(lambda err: self.page.problems.add(Path(path).name, err.message))
        return h

    def _photo_loaded(self, rgb, name: str, project: bool) -> None:
        self.page.photo_rgb, self.page.photo_name = rgb, name
        pp = self.page.photo_panel
        pp.target.setPixmap(to_pixmap(rgb).scaled(128, 128, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        pp.error.setText(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}")
        if project:  # a model with an encoder embeds instantly; the others project by optimisation
            self.embed() if self.page.session is not None and self.page.session.encoder is not None else self.project()

    def embed(self):
        """Instant embedding with the model's encoder (VAE-GAN): one forward pass, then edit as a projected photo."""
        if self.page.session is None or self.page.photo_rgb is None:
            self.page.window_.notify("Open or drop a photo first.")
            return None
        session, rgb = self.page.session, self.page.photo_rgb
        if session.encoder is None:
            self.page.problems.add("Embed", session.encoder_problem
                                   or f"{session.model.name} has no encoder; use Project.")
            return None
        label = f"photo {getattr(self.page, 'photo_name', '')}".strip()
        h = self.page.bridge.submit(lambda r, ctx: session.embed(r, label), rgb, name="Embed photo",
                                    kind="latent-project", replace=True)
        h.returned.connect(lambda res, s=session: s is self.page.session and self._projected(res))
        h.failed.connect(lambda err: self.page.problems.add("Embed", err.message))
        return h

    def project(self):
        if self.page.session is None or self.page.photo_rgb is None:
            self.page.window_.notify("Open or drop a photo first.")
            return None
        pp, session, rgb = self.page.photo_panel, self.page.session, self.page.photo_rgb
        cfg = ProjectConfig(space=pp.space.currentData(), steps=pp.steps.value(), use_features=pp.features.isChecked())
        h = self.page.bridge.submit(lambda c, ctx: session.project(rgb, c, ctx), cfg, name="Project photo",
                                    kind="latent-project", replace=True)
        self.page.project_job = h
        self._planned_steps, self._caption_before = cfg.steps, self.page.caption.text()
        pp.progress.setVisible(True)
        pp.progress.setRange(0, cfg.steps)
        pp.progress.setValue(0)
        pp.project_btn.setEnabled(False)
        pp.cancel_btn.setEnabled(True)
        h.progress.connect(lambda p: pp.progress.setValue(int(p.done)))
        h.partial.connect(self._projection_step)
        h.returned.connect(self._projected)
        h.failed.connect(lambda err: self.page.problems.add("Projection", err.message))
        h.cancelled.connect(self._projection_cancelled)
        h.finished.connect(self._projection_ended)
        self.page.window_.show_job(h, "Projecting photo")
        return h

    def _projection_step(self, d) -> None:
        self.page.photo_panel.recon.setPixmap(to_pixmap(d["image"]).scaled(128, 128, Qt.KeepAspectRatio,
                                                                            Qt.SmoothTransformation))
        self.page.photo_panel.error.setText(f"Step {d['step']} of {d['steps']}: loss {d['loss']:.4f}")
        self.page.view.set_image(d["image"])
        self.page.caption.setText(f"Projecting {getattr(self.page, 'photo_name', 'photo')}…")

    def _projected(self, res) -> None:
        self.page.projection = res
        res.latent.label = f"photo {getattr(self.page, 'photo_name', '')}".strip()
        self.page.current = res.latent
        feat = f", feature distance {res.feature_distance:.3f}" if res.feature_distance is not None else ""
        err = f"MSE {res.mse:.4f}, PSNR {res.psnr:.1f} dB{feat}"
        if res.method == "encoder":
            text = f"Embedded instantly by the encoder. Reconstruction error: {err}. Edit it with the sliders, " \
                   "or Project to refine it."
        else:
            text = f"Reconstruction error: {err} (features: {res.feature_net}). Edit it with the sliders."
        if res.stopped_at:
            text = f"Cancelled at step {res.stopped_at} of {self._planned_steps}; kept what it had found. " + text
        self.page.photo_panel.error.setText(text)
        self.page.photo_panel.recon.setPixmap(to_pixmap(res.reconstruction).scaled(128, 128, Qt.KeepAspectRatio,
                                                                                   Qt.SmoothTransformation))
        self.page.caption.setText(f"{res.latent.label} (PSNR {res.psnr:.1f} dB)")
        self.request_render()

    def _projection_cancelled(self) -> None:
        """Cancelled before its first step: nothing was found, so the page shows what it showed before."""
        self.page.photo_panel.error.setText("Projection cancelled before its first step; nothing changed.")
        self.page.photo_panel.recon.clear()
        self.page.caption.setText(self._caption_before)
        self.request_render()

    def forget_projection(self) -> None:
        """Another model: a projection belongs to the model it was made with."""
        self.page.projection = None
        pp = self.page.photo_panel
        pp.recon.clear()
        rgb = self.page.photo_rgb
        pp.error.setText("" if rgb is None else
                         f"{self.page.photo_name}: {rgb.shape[1]}x{rgb.shape[0]}. Project it into this model with "
                         "Project.")

    def _projection_ended(self, *_):
        pp = self.page.photo_panel
        pp.progress.setVisible(False)
        pp.project_btn.setEnabled(True)
        pp.cancel_btn.setEnabled(False)
        self.page.project_job = None
