"""Sample grids: the images a run writes to ``samples/`` and shows on the Train page."""
from __future__ import annotations

from typing import List

import numpy as np


def grid(rows: List[List[np.ndarray]], gap: int = 4, group: int = 3) -> np.ndarray:
    """Rows of equally sized tiles; a wider white gap after every ``group`` tiles."""
    h, w = rows[0][0].shape[:2]
    out_rows = []
    for tiles in rows:
        parts = []
        for i, t in enumerate(tiles):
            if i:
                parts.append(np.full((h, gap * (3 if i % group == 0 else 1), 3), 255, np.uint8))
            parts.append(t)
        out_rows.append(np.concatenate(parts, 1))
    sep = np.full((gap, out_rows[0].shape[1], 3), 255, np.uint8)
    stacked = []
    for i, r in enumerate(out_rows):
        if i:
            stacked.append(sep)
        stacked.append(r)
    return np.ascontiguousarray(np.concatenate(stacked, 0))
