"""Interpolation between latents (linear in w, spherical in z) and export as GIF (Pillow) or MP4 (OpenCV)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch

from ..errors import ConfigError
from ..fsutil import atomic_path
from .latent import Latent, LatentModel

MODES = ("w", "z")  # linear in w, spherical in z


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between two vectors (falls back to lerp when they are parallel)."""
    an, bn = a / a.norm().clamp_min(1e-8), b / b.norm().clamp_min(1e-8)
    omega = torch.arccos((an * bn).sum().clamp(-1.0, 1.0))
    so = torch.sin(omega)
    if float(so) < 1e-6:
        return lerp(a, b, t)
    return (torch.sin((1.0 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def path_codes(model: LatentModel, points: Sequence[Latent], frames_per_segment: int, mode: str = "w",
               psi: float = 1.0, loop: bool = False) -> List[torch.Tensor]:
    """Codes (num_ws, dim) along a path through ``points``: lerp of the (truncated) w+ codes, or slerp of z mapped
    through the model (z models always slerp)."""
    if mode not in MODES:
        raise ConfigError(f"Interpolation mode must be 'w' (linear in w) or 'z' (spherical in z); got {mode!r}.")
    if len(points) < 2:
        raise ConfigError("Pick at least two seeds or images to interpolate between.")
    if frames_per_segment < 2:
        raise ConfigError("Each segment needs at least 2 frames.")
    if not model.has_w:
        mode = "z"
    if mode == "z" and any(p.z is None for p in points):
        raise ConfigError("Spherical interpolation in z needs seeds; projected photos have no z. Use 'w'.")
    seq = list(points) + ([points[0]] if loop else [])
    out: List[torch.Tensor] = []
    for i in range(len(seq) - 1):
        a, b = seq[i], seq[i + 1]
        last = i == len(seq) - 2 and not loop
        n = frames_per_segment if last else frames_per_segment - 1
        for j in range(n):
            t = j / (frames_per_segment - 1)
            if mode == "w":
                out.append(lerp(model.truncated(a, psi), model.truncated(b, psi), t))
            else:
                z = slerp(a.z, b.z, t)
                out.append(model.truncated(model.from_z(z), psi))
    return out


def render_frames(model: LatentModel, codes: Sequence[torch.Tensor], batch: int = 8,
                  progress: Optional[Callable[[int, int], None]] = None, **render_kw) -> List[np.ndarray]:
    frames: List[np.ndarray] = []
    for i in range(0, len(codes), batch):
        chunk = torch.stack(list(codes[i:i + batch]))
        frames.extend(list(model.render_uint8(chunk, **render_kw)))
        if progress:
            progress(len(frames), len(codes))
    return frames


def write_animation(path, frames: Sequence[np.ndarray], fps: float = 24.0, size: Optional[int] = None) -> Path:
    """Write frames (HxWx3 uint8) as ``.gif`` (looping) or ``.mp4``; ``size`` upscales small renders."""
    import cv2

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ConfigError(f"Cannot write {path.name}: choose a .gif or .mp4 file name.")
    if not frames:
        raise ConfigError("There are no frames to write.")
    if fps <= 0:
        raise ConfigError("Frames per second must be positive.")
    if size and size != frames[0].shape[0]:
        frames = [cv2.resize(f, (size, size), interpolation=cv2.INTER_LANCZOS4 if size > f.shape[0]
                             else cv2.INTER_AREA) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            from PIL import Image

            imgs = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
            imgs[0].save(str(tmp), format="GIF", save_all=True, append_images=imgs[1:],
                         duration=int(round(1000 / fps)), loop=0)
        else:
            _write_mp4(tmp, frames, fps)
    return path


def _write_mp4(tmp: Path, frames: Sequence[np.ndarray], fps: float) -> None:
    import cv2

    h, w = frames[0].shape[:2]
    mp4 = tmp.with_name(tmp.stem + ".tmp.mp4")  # OpenCV picks the container from the extension
    writer = cv2.VideoWriter(str(mp4), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise ConfigError("This OpenCV build cannot write MP4 video; export a GIF instead.")
    try:
        for f in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    if not mp4.exists() or mp4.stat().st_size == 0:
        raise ConfigError("OpenCV wrote no MP4 data; export a GIF instead.")
    mp4.replace(tmp)
