"""Non-finite training never reaches a file: the step guard, intact checkpoints and stale temp files.

- :class:`NonFiniteGuard` (``trainer.guard``): every optimizer step goes through :meth:`NonFiniteGuard.step`. A
  non-finite loss or gradient skips the update and is counted; :data:`MAX_BAD_STEPS` bad steps in a row stop the run
  with :class:`Diverged`. The decision stays on the device (fused Adam takes it as ``found_inf``) so the hot loop
  needs no host sync on GPUs; :meth:`check` reads the counters (every step on the CPU, at log steps and before every
  checkpoint on GPUs).
- :func:`assert_finite`: the weights of every network are finite before a checkpoint or model is written.
- :func:`load_intact`: resume from ``latest``, or, if it is damaged (checksum) or holds non-finite weights, from
  ``previous`` or ``best``, saying so.
- :func:`keep_previous`: ``latest`` is kept as ``previous`` (a hard link, no copy) before it is replaced.
- :func:`clean_run_parts`: temp files of interrupted writes (ours: ``.NAME.<random>.EXT.part``) go on start/resume.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Dict, List, Optional

import torch

from .checkpoint import Checkpoint, load_checkpoint, nonfinite_tensors
from .errors import CheckpointError, GanStudioError
from .fsutil import clean_stale_parts, unique_path

#: this many optimisation steps in a row with a non-finite loss or gradient stop the run
MAX_BAD_STEPS = 8


class Diverged(GanStudioError):
    """Training produced non-finite values; nothing was written after the last good checkpoint."""

    kind = "diverged"

    def __init__(self, step: int, why: str, kept: int, run_dir):
        self.step, self.kept = step, kept
        good = (f"last good checkpoint kept (step {kept})" if kept > 0 else
                "nothing was saved (there was no good checkpoint yet)")
        hint = (f"Lower the learning rate, or resume from the kept checkpoint with --resume {run_dir}."
                if kept > 0 else "Lower the learning rate and start again.")
        super().__init__(f"Training diverged at step {step}: {good}. {why} {hint}")


class NonFiniteGuard:
    def __init__(self, limit: Optional[int] = None):
        self.limit = limit or MAX_BAD_STEPS
        self.skipped = 0  # steps skipped so far (host copy, updated by check())
        self.streak = 0  # bad steps in a row at the last check() (host copy)
        self._step_bad: Optional[torch.Tensor] = None  # any bad update in the current step (device bool)
        self._streak: Optional[torch.Tensor] = None  # bad steps in a row (device int)
        self._total: Optional[torch.Tensor] = None
        self._worst: Optional[torch.Tensor] = None  # the longest streak since the last check

    # --- one optimizer update ----------------------------------------------------------------------------
    def step(self, opt: torch.optim.Optimizer, loss: torch.Tensor, scaler=None) -> None:
        """Apply ``opt``'s update (gradients already computed) unless the loss or a gradient is not finite."""
        bad = ~torch.isfinite(loss.detach().float()).all()
        if scaler is not None:  # the scaler skips non-finite (scaled) gradients itself; count only bad losses
            self._note(bad)
            scaler.step(opt)
            return
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if grads:
            norms = torch._foreach_norm(grads, ord=float("inf"))
            bad = bad | ~torch.isfinite(torch.stack([n.float() for n in norms])).all()
        self._note(bad)
        if opt.defaults.get("fused"):
            opt.found_inf, opt.grad_scale = bad.float(), None  # type: ignore[attr-defined]
            try:
                opt.step()
            finally:
                del opt.found_inf, opt.grad_scale  # type: ignore[attr-defined]
        elif not bool(bad):  # host decision (free on the CPU)
            opt.step()

    def _note(self, bad: torch.Tensor) -> None:
        self._step_bad = bad if self._step_bad is None else (self._step_bad | bad)

    # --- per training step -------------------------------------------------------------------------------
    def end_step(self) -> Optional[torch.Tensor]:
        """Close the step; returns its bad flag (device bool) or None when nothing was checked."""
        bad, self._step_bad = self._step_bad, None
        if bad is None:
            return None
        b = bad.to(torch.int64)
        if self._streak is None:
            self._streak, self._total, self._worst = b.clone(), b.clone(), b.clone()
        else:
            self._streak = (self._streak + 1) * b
            self._total = self._total + b
            self._worst = torch.maximum(self._worst, self._streak)
        return bad

    def bad_in_a_row(self) -> int:
        """Bad steps in a row up to the last :meth:`end_step` (one host read; free on the CPU)."""
        return int(self._streak) if self._streak is not None else 0

    def check(self, step: int, kept: int, run_dir, log: Callable[[str], None], report: bool = True) -> None:
        """Read the counters (one host sync); raise :class:`Diverged` after too many bad steps in a row. With
        ``report``, log how many steps were skipped since the last report."""
        if self._streak is None:
            return
        streak, total, worst = (int(v) for v in torch.stack([self._streak, self._total, self._worst]).tolist())
        self.streak = streak
        self._worst = self._streak.clone()
        if worst >= self.limit:
            raise Diverged(step, f"{worst} steps in a row had a non-finite loss or gradient.", kept, run_dir)
        if report and total > self.skipped:
            log(f"Skipped {total - self.skipped} step(s) with a non-finite loss or gradient (NaN or infinity) up "
                f"to step {step}; the weights were not changed by them.")
            self.skipped = total


def assert_finite(nets: Dict[str, torch.nn.Module], step: int, kept: int, run_dir) -> None:
    bad = [f"{name}.{k}" for name, net in nets.items() for k in nonfinite_tensors(net.state_dict().items())]
    if bad:
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        raise Diverged(step, f"The weights hold NaN or infinity ({', '.join(bad[:3])}{more}); they were not saved.",
                       kept, run_dir)


def assert_outputs_finite(exports, step: int, kept: int, run_dir) -> None:
    """Every exported model gives finite output on a probe input (else nothing of this checkpoint is written)."""
    from .modelcheck import output_is_finite

    bad = [name for name, module, meta in exports if not output_is_finite(module, meta)]
    if bad:
        raise Diverged(step, f"The output of {', '.join(bad)} holds NaN or infinity.", kept,
                       run_dir)


def keep_previous(rf) -> None:
    """Keep the current ``latest`` as ``previous`` before it is replaced (hard link; a copy where links fail)."""
    if not rf.latest.exists():
        return
    with contextlib.suppress(OSError):
        if os.path.samefile(rf.latest, rf.previous):  # kept already (the last write did not replace latest)
            return
    tmp = rf.previous.with_name(f".{rf.previous.name}.link.part")
    with contextlib.suppress(OSError):
        tmp.unlink()
    try:
        os.link(rf.latest, tmp)
    except OSError:
        import shutil

        shutil.copyfile(rf.latest, tmp)
    os.replace(tmp, rf.previous)


def load_intact(rf, family: str, log: Callable[[str], None], set_aside: bool = True) -> Checkpoint:
    """The newest intact training checkpoint of ``rf``: ``latest``, else ``previous``, else ``best``. A damaged
    ``latest`` is renamed to ``latest.damaged.safetensors`` (``set_aside``; the main process), so that the next
    checkpoint never keeps it as ``previous`` in place of the intact one."""
    problems: List[str] = []
    for path in (rf.latest, rf.previous, rf.best):
        if not path.exists():
            continue
        try:
            ckpt = load_checkpoint(path, device="cpu")
            meta = ckpt.meta
            if meta.get("kind") != "training" or meta.get("family") != family:
                raise CheckpointError(f"{path} is not a {family} training checkpoint.")
            bad = nonfinite_tensors((k, v) for k, v in ckpt.tensors.items() if k.startswith("net."))
            if bad:
                raise CheckpointError(f"{path} holds non-finite weights ({', '.join(bad[:3])}).")
        except CheckpointError as e:
            problems.append(str(e))
            continue
        if problems:
            aside = ""
            if set_aside and path != rf.latest and rf.latest.exists():
                damaged = unique_path(rf.latest.with_name("latest.damaged.safetensors"))  # never over an older one
                with contextlib.suppress(OSError):
                    os.replace(rf.latest, damaged)
                    aside = f" The damaged file is kept as {damaged.name}."
            log(f"{' '.join(problems)} Resuming from {path.name} (step {meta.get('step', '?')}) instead.{aside}")
        return ckpt
    raise CheckpointError(" ".join(problems) + " No intact checkpoint is left to resume from."
                          if problems else f"{rf.root} has no checkpoint to resume from.")


def clean_run_parts(rf) -> int:
    """Remove temp files left by interrupted writes in the run folder (never anything else)."""
    return sum(clean_stale_parts(d) for d in (rf.root, rf.ckpt_dir, rf.models, rf.samples))
