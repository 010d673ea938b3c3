"""Device choice (cuda > mps > cpu), autocast dtype per device, friendly names, memory guard."""
from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from typing import Optional

import torch


@dataclass(frozen=True)
class DeviceInfo:
    device: torch.device
    name: str
    amp_dtype: Optional[torch.dtype]  # None: run in fp32
    total_memory: int = 0  # bytes, 0 when unknown

    @property
    def type(self) -> str:
        return self.device.type

    def status_text(self) -> str:
        if self.device.type == "cuda":
            gib = self.total_memory / 2**30
            return f"GPU: {self.name} ({gib:.0f} GiB, {dtype_name(self.amp_dtype)})"
        if self.device.type == "mps":
            return f"GPU: Apple {self.name} (MPS)"
        return f"CPU: {self.name} ({torch.get_num_threads()} threads), no GPU found"


def dtype_name(dt: Optional[torch.dtype]) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}.get(dt, str(dt))


def pick_device(prefer: Optional[str] = None) -> torch.device:
    """``prefer`` may be 'cuda', 'cuda:1', 'mps', 'cpu' or None/'auto' (cuda > mps > cpu).

    ``GANSTUDIO_DEVICE`` in the environment overrides the automatic choice.
    """
    prefer = prefer or os.environ.get("GANSTUDIO_DEVICE") or "auto"
    if prefer != "auto":
        from .errors import ConfigError

        if not re.fullmatch(r"cpu|mps|cuda(:\d{1,2})?", str(prefer)):
            raise ConfigError(f"Unknown device {str(prefer)[:40]!r}; use auto, cpu, cuda, cuda:N or mps.")
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError("CUDA was requested but no CUDA GPU is available.")
        if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"There is no GPU {prefer}: this machine has {torch.cuda.device_count()} "
                              f"(cuda:0 to cuda:{torch.cuda.device_count() - 1}).")
        mps = getattr(torch.backends, "mps", None)
        if dev.type == "mps" and not (mps is not None and mps.is_available()):
            raise ConfigError("MPS (Apple GPU) was requested but is not available on this machine.")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def amp_dtype(device: torch.device) -> Optional[torch.dtype]:
    """bf16 on CUDA GPUs that support it, fp16 on older CUDA and MPS, None (fp32) on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return None


def describe(device: Optional[torch.device] = None) -> DeviceInfo:
    device = device or pick_device()
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        return DeviceInfo(device, props.name, amp_dtype(device), props.total_memory)
    if device.type == "mps":
        return DeviceInfo(device, "Metal", amp_dtype(device))
    return DeviceInfo(device, _cpu_name(), None)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "CPU"


def cpu_has_fast_bf16() -> bool:
    """True on CPUs with native bf16 matrix instructions (AVX512-BF16 or AMX), where oneDNN runs bf16 convolutions
    about twice as fast as fp32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def autocast(device: torch.device, dtype: Optional[torch.dtype] = None, enabled: bool = True):
    """An autocast context for ``device`` (a no-op in fp32 / on CPU without a dtype)."""
    dtype = dtype if dtype is not None else amp_dtype(device)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def peak_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return 0


def empty_cache(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def setup_fast_math(device: torch.device) -> None:
    """cudnn autotuning and TF32 matmuls; harmless on CPU."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
