"""Image history buffer (Shrivastava et al.), with the exact semantics of junyanz ``util/image_pool.py``.

``ImagePool(50).query(fakes)``: while the pool is not full, every image is stored and returned as is. Once full, each
image is, with probability 1/2, swapped for a random stored one (which is returned and replaced by the new one),
otherwise returned as is. Size 0 disables the pool. Randomness comes from Python's ``random`` like junyanz (its state
is part of every checkpoint), and nothing here synchronises with the GPU.

``state_dict()`` / ``load_state_dict()`` carry the stored images (one stacked tensor) so a resumed run continues with
the same history.
"""
from __future__ import annotations

import random
from typing import Dict, List

import torch


class ImagePool:
    def __init__(self, pool_size: int = 50):
        self.pool_size = int(pool_size)
        self.images: List[torch.Tensor] = []  # each 1xCxHxW, detached

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch (same size) mixing the given images with older ones."""
        if self.pool_size <= 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                i = random.randint(0, self.pool_size - 1)
                old = self.images[i].clone()
                self.images[i] = image
                out.append(old)
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> Dict[str, object]:
        if not self.images:
            return {"pool_size": self.pool_size, "count": 0}
        return {"pool_size": self.pool_size, "count": len(self.images), "images": torch.cat(self.images, 0)}

    def load_state_dict(self, state: Dict[str, object], device: torch.device | None = None) -> None:
        n = int(state.get("count", 0))
        imgs = state.get("images")
        self.images = []
        if n and isinstance(imgs, torch.Tensor):
            imgs = imgs.to(device) if device is not None else imgs
            self.images = [imgs[i:i + 1] for i in range(min(n, imgs.shape[0]))][: self.pool_size or None]
