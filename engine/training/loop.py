"""The training loop of :class:`engine.training.core.Trainer` (set-up, resume, steps, logging, checkpoints, errors).

Hot loop rule: nothing here reads a tensor on the host except at log steps (one ``tolist()`` of the stacked mean
losses), so GPU work queues up without synchronisation between steps.
"""
from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .. import devices
from ..checkpoint import save_checkpoint
from ..errors import (Cancelled, ConfigError, DataError, DiskError, GanStudioError, OutOfMemory,
                      describe_exception, is_oom)
from ..library import save_model
from .. import guard as G
from . import distributed as D
from . import state as S
from .run_card import write_run_card
from .run_status import fmt_duration, milestone
from .runs import TrainResult, _alive, absolute_data, check_outside_data, disk_error

#: the training clock does not count an interval longer than this in which the process used less than this share of
#: one CPU: it was suspended, not training
SUSPENDED_AFTER_S = 120.0
SUSPENDED_CPU_SHARE = 0.02


class TrainLoop:
    def __init__(self, trainer):
        self.t = trainer
        self.rf = trainer.run_folder
        self.cfg = trainer.cfg
        self.main = True
        self.train_seconds = 0.0
        self.best_score: Optional[float] = None
        self.last_ckpt_step = -1
        self.last_losses: Dict[str, float] = {}
        self.models: List[Path] = []
        self._acc: Dict[str, torch.Tensor] = {}
        self._n_acc = 0
        self._n_good: Any = 0  # steps in the sums that were not skipped (a device tensor once the guard runs)
        self._t_log = 0.0
        self._t_run = 0.0
        self._cpu_run = 0.0
        self._speed = (0.0, 0.0)  # steps/s, eta seconds

    # --- entry -------------------------------------------------------------------------------------------
    def run(self):
        t, cfg = self.t, self.cfg
        if not (cfg.resume_from or cfg.out_dir):
            raise ConfigError("Choose an output folder for the run (--out RUN_DIR).")
        t.setup_device()
        self.main = t.dist.is_main
        created = self._prepare_folder()
        try:
            self._seed(cfg.seed)
            t.make_data()
            t.total = cfg.steps or t.default_steps()
            t.build()
            t.setup_ema()
            self._start()  # a refused start model (load_init) leaves no run folder behind either
        except BaseException:
            if created and self.main:
                shutil.rmtree(self.rf.root, ignore_errors=True)
            raise
        try:
            self._loop()
            self._checkpoint("finished")
            self._finish_ddp()
            self._status("finished", message=f"Finished {t.total} steps.")
            self.t.log(f"Finished at step {t.step} ({self.train_seconds / 60:.1f} min of training).")
            return self._result("finished")
        except Cancelled:
            if t.step > self.last_ckpt_step and t.step > 0:
                try:
                    self._checkpoint("cancelled")
                except G.Diverged as d:
                    raise self._failed(d) from None
            self._status("cancelled", message=f"Cancelled at step {t.step}; resume to continue.")
            raise
        except Exception as e:  # noqa: BLE001 - every failure leaves a status and a clear message
            raise self._failed(e) from None
        finally:
            D.shutdown(t.dist)

    # --- set-up ------------------------------------------------------------------------------------------
    def _prepare_folder(self) -> bool:
        rf, cfg = self.rf, self.cfg
        if cfg.resume_from:
            if not any(p.exists() for p in (rf.latest, rf.previous, rf.best)):
                raise DataError(f"{rf.root} has no checkpoint yet (checkpoints/latest.safetensors), so there is "
                                "nothing to resume; start a new run instead.")
            check_outside_data(cfg, rf.root)  # an unpacked or moved run could sit inside its data now
            if self.main:
                self._check_not_running()
                rf.prepare()
                G.clean_run_parts(rf)  # temp files of writes a crash interrupted
            return False
        self.t.check_run_folder()
        check_outside_data(cfg, rf.root)
        if rf.holds_run():
            step = rf.read_status().get("step", "?")
            raise DataError(f"{rf.root} already holds a training run (step {step}). Resume it (--resume "
                            f"{rf.root}) or choose another output folder.")
        if rf.root.exists():
            if not rf.root.is_dir():
                raise DataError(f"The output folder {rf.root} is a file; choose a folder for the run.")
            theirs = sorted(p.name for p in rf.root.iterdir()  # hidden files: a run never writes over them
                            if p.name not in rf.START_LEFTOVERS and not p.name.startswith("."))
            if theirs:
                raise DataError(f"The output folder {rf.root} is not empty and is not a training run (it holds "
                                f"{len(theirs)} other item{'s' if len(theirs) != 1 else ''}: "
                                f"{', '.join(theirs[:3])}{', ...' if len(theirs) > 3 else ''}); a run writes its "
                                "models and samples there and could replace those files. Choose a new or empty "
                                "folder.")
        created = rf.prepare() if self.main else False
        if self.main:
            G.clean_run_parts(rf)
        return created

    def _check_not_running(self) -> None:
        st = self.rf.read_status()
        if st.get("state") in ("running", "paused", "starting") and _alive(st.get("pid", -1), st.get("host", "")):
            raise DataError(f"{self.rf.root} is being trained right now by another process (pid {st.get('pid')}); "
                            "wait for it to stop or cancel it before resuming.")

    def _seed(self, seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def _start(self) -> None:
        t, rf = self.t, self.rf
        if self.cfg.resume_from:
            # latest, else previous or best if latest is damaged
            ckpt = G.load_intact(rf, t.family, t.log, set_aside=self.main)
            meta = ckpt.meta
            S.restore(t, ckpt)
            t.step = int(meta.get("step", 0))
            if t.total < t.step:
                raise ConfigError(f"{rf.root} is already at step {t.step}; to extend it, ask for more steps than "
                                  f"that (got {t.total}).")
            self.train_seconds = float(meta.get("train_seconds", 0.0))
            self.best_score = meta.get("best_score")
            self.last_ckpt_step = t.step
            self.last_losses = dict(meta.get("last_losses") or {})
        else:
            t.load_init()
            t.ema.restart()
            if t.dist.enabled and t.dist.rank:
                self._seed(self.cfg.seed * 1000 + t.dist.rank)  # different pool/augment draws per rank
        if self.main:  # data folders stored as absolute paths: the run resumes from any working directory
            self.cfg.replace(steps=t.total, **absolute_data(self.cfg)).save(rf.config_path)
            if self.cfg.resume_from:
                rf.truncate_metrics(t.step)
        self._status("running", message="")
        what = "Resuming" if self.cfg.resume_from else "Starting"
        dev = devices.describe(t.device).status_text()
        ddp = f", {t.dist.world} processes ({t.dist.backend})" if t.dist.enabled else ""
        t.log(f"{what} {t.method_name()} at step {t.step} of {t.total} on {dev}{ddp}; precision "
              f"{devices.dtype_name(t.amp_dtype)}, batch {self.cfg.batch_size}, {self.cfg.image_size} px.")

    # --- the loop ----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        t, cfg = self.t, self.cfg
        it = t.batches()
        self._t_log = self._t_run = time.perf_counter()
        self._cpu_run = time.process_time()
        try:
            while t.step < t.total:
                self._control()
                batch = next(it)
                for s in t.scheds.values():
                    s.set_step(t.step)
                losses = t.train_step(batch)
                if t.scaler is not None:
                    t.scaler.update()
                t.update_ema()
                t.step += 1
                self._accumulate(losses, t.guard.end_step())
                s = t.step
                if t.device.type != "cuda" or s % cfg.log_every == 0:  # a host sync: free on the CPU
                    self._check_finite(report=s % cfg.log_every == 0)
                t.progress(t.step, t.total, self._message())
                if s % cfg.log_every == 0 or s == t.total:
                    self._log_losses()
                if cfg.sample_every and (s % cfg.sample_every == 0 or s == t.total):
                    self._sample()
                if cfg.eval_every and s % cfg.eval_every == 0:
                    self._evaluate()
                if cfg.checkpoint_every and s % cfg.checkpoint_every == 0 and s < t.total:
                    self._check_finite()
                    if not t.guard.streak:  # in a run of skipped steps: the last good checkpoint stays latest
                        self._checkpoint("running")
        finally:
            self._clock()
            close = getattr(it, "close", None)
            if close:
                close()

    def _control(self) -> None:
        """Pause (checkpoint first, so quitting while paused loses nothing) and cancel."""
        if self.t.ctx.paused:
            self._clock()
            if self.t.step > self.last_ckpt_step:
                self._checkpoint("paused")
            self._status("paused", message="Paused.")
            self.t.ctx.check_cancel()
            self._status("running", message="")
            self._t_log = self._t_run = time.perf_counter()
            self._cpu_run = time.process_time()
            self._acc, self._n_acc = {}, 0
        self.t.ctx.check_cancel()

    def _clock(self) -> None:
        """Add the time since the last call to ``train_seconds``. On the CPU, a long interval in which this process
        used almost no CPU is a suspension (SIGSTOP, Ctrl+Z, a laptop asleep), not training: only its CPU time is
        counted. (On a GPU a process may wait on the device with its CPU idle, so wall time always counts there.)"""
        now, cpu = time.perf_counter(), time.process_time()
        wall, used = now - self._t_run, cpu - self._cpu_run
        on_cpu = getattr(getattr(self.t, "device", None), "type", "cpu") == "cpu"
        if on_cpu and wall > SUSPENDED_AFTER_S and used < SUSPENDED_CPU_SHARE * wall:
            wall = used
        self.train_seconds += wall
        self._t_run, self._cpu_run = now, cpu

    def _accumulate(self, losses: Dict[str, torch.Tensor], bad: Optional[torch.Tensor] = None) -> None:
        """Sum the step's losses (a skipped, non-finite step adds nothing; ``_n_good`` counts the others)."""
        for k, v in losses.items():
            v = v.detach().float()
            if bad is not None:
                v = torch.where(bad, torch.zeros_like(v), v)
            self._acc[k] = v if k not in self._acc else self._acc[k] + v
        self._n_acc += 1
        good = 1 if bad is None else (~bad).to(torch.float32)
        self._n_good = good if self._n_acc == 1 else self._n_good + good

    def _check_finite(self, report: bool = True) -> None:
        self.t.guard.check(self.t.step, max(0, self.last_ckpt_step), self.rf.root, self.t.log, report)

    def _message(self) -> str:
        parts = [f"step {self.t.step}/{self.t.total}"]
        ll = self.last_losses
        heads = [f"{k} {ll[k]:.3f}" for k in self.t.headline if k in ll]
        if heads:
            parts.append(" ".join(heads))
        if self._speed[0]:
            parts.append(f"{self._speed[0]:.2f} steps/s")
        return " · ".join(parts)

    def _log_losses(self) -> None:
        t = self.t
        if not self._acc:
            return
        keys = sorted(self._acc)
        sums = torch.stack([self._acc[k].reshape(()) for k in keys])
        n_good = torch.as_tensor(self._n_good, dtype=sums.dtype, device=sums.device).reshape(1)
        stacked = torch.cat([sums / n_good.clamp(min=1), n_good])
        vals = D.mean_over_ranks(stacked, t.dist).tolist()  # the one host sync per log interval
        if not vals.pop():  # every step since the last log was skipped (non-finite): no losses to report
            self._acc, self._n_acc = {}, 0
            return
        now = time.perf_counter()
        sps = self._n_acc / max(1e-9, now - self._t_log)
        self._t_log = now
        eta = (t.total - t.step) / sps if sps > 0 else 0.0
        self._speed = (sps, eta)
        pct = milestone(t.step - self._n_acc, t.step, t.total)  # a quarter-way point passed since the last log
        self._acc, self._n_acc = {}, 0
        losses = {k: float(v) for k, v in zip(keys, vals)}
        self.last_losses = losses
        gpu = devices.peak_memory(t.device) / 2**30
        lr = next(iter(t.scheds.values())).last_lr[0] if t.scheds else self.cfg.lr
        self._clock()
        rec = {"step": t.step, "time": round(self.train_seconds, 3), "lr": lr, **losses,
               "steps_per_s": round(sps, 4), "img_per_s": round(sps * self.cfg.batch_size * t.dist.world, 3)}
        if gpu:
            rec["gpu_mem_gib"] = round(gpu, 3)
        if self.main:
            self.rf.append_metrics(rec)
            if pct:
                heads = "".join(f", {k} {losses[k]:.3f}" for k in t.headline if k in losses)
                t.log(f"{pct}% done: step {t.step} of {t.total}{heads}; {fmt_duration(self.train_seconds)} of "
                      f"training, about {fmt_duration(eta)} to go.")
            self.rf.log(f"step {t.step}/{t.total} " + " ".join(f"{k} {v:.4f}" for k, v in losses.items())
                        + f" | {sps:.3f} steps/s, lr {lr:.2e}")
            t.ctx.partial({"event": "log", "step": t.step, "total": t.total, "losses": losses, "lr": lr,
                           "steps_per_s": sps, "img_per_s": rec["img_per_s"], "eta_s": eta,
                           "gpu_mem": gpu if gpu else None, "sample": None, "run_dir": str(self.rf.root)})

    def _sample(self) -> None:
        if not self.main:
            return
        img = self.t.sample_grid()
        if img is None:
            return
        path = self.rf.save_sample(self.t.step, img)
        self.t.ctx.partial({"event": "sample", "step": self.t.step, "total": self.t.total, "sample": img,
                            "path": str(path), "run_dir": str(self.rf.root)})

    def _evaluate(self) -> None:
        if not self.main:
            return
        res = self.t.evaluate()
        if res:
            self.last_losses.update({f"eval_{k}": float(v) for k, v in res.items()})
            self.rf.append_metrics({"step": self.t.step, "eval": res})
            self.t.log(f"eval at step {self.t.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in res.items()))
            self.t.ctx.partial({"event": "eval", "step": self.t.step, "total": self.t.total, "eval": res,
                                "sample": None, "run_dir": str(self.rf.root)})

    # --- checkpoints -------------------------------------------------------------------------------------
    def _checkpoint(self, reason: str) -> None:
        t = self.t
        self._clock()
        t.finishing = reason == "finished"
        if self.main:
            self._write_checkpoint()
            self._status(reason if reason != "finished" else "running", message="")
            t.ctx.partial({"event": "checkpoint", "step": t.step, "total": t.total, "sample": None,
                           "models": [str(p) for p in self.models], "path": str(self.rf.latest),
                           "run_dir": str(self.rf.root)})
        D.barrier(t.dist)
        self.last_ckpt_step = t.step

    def _write_checkpoint(self) -> None:
        t, rf = self.t, self.rf
        self._check_finite()
        G.assert_finite(t.nets, t.step, max(0, self.last_ckpt_step), rf.root)  # never save NaN weights
        tensors, nested = S.collect(t)
        score = t.score(self.last_losses) if self.last_losses else None
        better = score is not None and (self.best_score is None or score < self.best_score)
        if better:
            self.best_score = score
        meta = {"kind": "training", "family": t.family, "step": t.step, "total": t.total,
                "config": self.cfg.replace(steps=t.total, **absolute_data(self.cfg)).to_dict(), "train_seconds": round(self.train_seconds, 3),
                "best_score": self.best_score, "world_size": t.dist.world, "last_losses": self.last_losses,
                "device": str(t.device), **nested}
        kept = (f"The previous checkpoint (step {self.last_ckpt_step}) is intact; free some space or fix the "
                f"folder, then resume with --resume {rf.root}.") if self.last_ckpt_step > 0 else \
            "Free some space or choose another output folder."
        exports = t.export_models()
        G.assert_outputs_finite(exports, t.step, max(0, self.last_ckpt_step), rf.root)  # before anything is written
        try:
            G.keep_previous(rf)
            save_checkpoint(rf.latest, tensors, meta)
            if better:
                save_checkpoint(rf.best, tensors, dict(meta, best=True))
            self.models = []
            for name, module, mmeta in exports:
                mmeta = t.model_meta_for_export(mmeta)
                if isinstance(mmeta.get("training"), dict):  # the model's own record of its training time
                    mmeta["training"] = dict(mmeta["training"], train_seconds=round(self.train_seconds, 1))
                path = save_model(rf.models / name, module, mmeta, probe=False)  # probed above
                write_run_card(path, mmeta, train_seconds=self.train_seconds, losses=self.last_losses,
                               config=meta["config"])
                self.models.append(path)
        except OSError as e:
            raise disk_error(e, f"the checkpoint at step {t.step} to {rf.root}", kept) from None
        line = f"Checkpoint at step {t.step}" + (f" (best so far, score {score:.4f})" if better else "")
        if self.last_ckpt_step <= 0 and t.step < t.total and self.models:  # a milestone: the first usable models
            t.log(f"First models saved at step {t.step}: they are in the model lists, marked partial until the run "
                  "finishes.")
            rf.log(line)
        else:
            rf.log(line)  # routine saves go to train.log only; the job log reports milestones

    # --- endings -----------------------------------------------------------------------------------------
    def _status(self, state: str, **fields: Any) -> None:
        if self.main:
            self.rf.write_status(state, step=self.t.step, total=self.t.total, family=self.t.family,
                                 name=self.cfg.name or self.rf.name, train_seconds=round(self.train_seconds, 1),
                                 checkpoint_step=max(0, self.last_ckpt_step), **fields)

    def _failed(self, e: BaseException) -> BaseException:
        t = self.t
        if is_oom(e):
            devices.empty_cache(t.device)
            b, s = self.cfg.batch_size, self.cfg.image_size
            hint = f"--batch {max(1, b // 2)}" if b > 1 else f"--size {max(64, s // 2)}"
            e = OutOfMemory(f"Out of GPU memory at step {t.step} (batch {b}, {s} px). Try a smaller batch or image "
                            f"size ({hint}) or close other GPU programs. The run is saved at step "
                            f"{max(0, self.last_ckpt_step)}; resume it with --resume {self.rf.root}.")
        elif isinstance(e, OSError):
            e = disk_error(e, "to the run folder", f"The last checkpoint (step {max(0, self.last_ckpt_step)}) is "
                                                   f"intact; resume with --resume {self.rf.root}.")
        msg = str(e) if isinstance(e, GanStudioError) else describe_exception(e).message
        extra = {"diverged_at": e.step, "checkpoint_kept": e.kept} if isinstance(e, G.Diverged) else {}
        try:
            self._status("failed", message=msg, **extra)
            t.log(f"Stopped: {msg}")
        except (DiskError, OSError):
            pass
        return e

    def _finish_ddp(self) -> None:
        t = self.t
        if not t.dist.enabled:
            return
        prints = [float(sum(p.detach().double().sum() for p in net.parameters())) for net in t.nets.values()]
        rows = D.gather_floats(prints, t.dist, torch.device("cpu") if t.dist.backend == "gloo" else t.device)
        agree = all(r == rows[0] for r in rows)
        self._status("running", ddp={"world_size": t.dist.world, "backend": t.dist.backend, "agree": agree,
                                     "fingerprints": rows})
        t.log(f"DDP check: {t.dist.world} ranks, parameters {'agree' if agree else 'DIFFER'} "
              f"(fingerprints {rows}).")

    def _result(self, state: str):
        return TrainResult(self.rf.root, self.t.family, state, self.t.step, self.t.total, list(self.models),
                           self.train_seconds, dict(self.last_losses))

