"""What an importer of a foreign checkpoint returns (:data:`engine.registry.IMPORTERS`, :mod:`engine.importers`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

import torch

from ..checkpoint import load_into
from ..registry import MODELS


@dataclass
class ImportedModel:
    arch: str
    arch_kwargs: Dict[str, Any]
    state: Dict[str, torch.Tensor]
    family: str = "cyclegan"
    task: str = "translate"
    source_format: str = ""
    notes: List[str] = field(default_factory=list)

    def build(self) -> torch.nn.Module:
        net = MODELS.build(self.arch, **self.arch_kwargs)
        load_into(net, self.state, what=f"{self.arch} network")
        return net.eval()
