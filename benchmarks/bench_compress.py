"""Compressed generators beside their teachers: size, speed and fidelity, each pair side by side in one run.

    python benchmarks/bench_compress.py [--pairs vintagify:vintagify-fast,sketch2face:sketch2face-fast]
                                        [--n 97] [--inputs DIR] [--real DIR] [--folder-n 100] [--teacher-folder-n 20] [--iters 5]
                                        [--draw sketch2face-fast] [--threads 0] [--write]

Per pair (teacher id : student id, both from the model library):
- MACs at 256x256 and parameters;
- latency of one 256x256 image (interleaved teacher/student forwards, after a warm-up; min and median of ``iters``);
- folder throughput end to end (``translate_task``: decode, translate, encode, write) on ``folder-n`` photos at
  256x256 for the student and ``teacher-folder-n`` for the teacher (the teacher is 10-20x slower);
- fidelity on held-out images: PSNR and SSIM of the student's output against the teacher's, FID and KID of the
  student's outputs against the teacher's (TF Inception FID weights; N is small, so KID is the unbiased one);
- for sketch models: FID/KID of teacher and student outputs against the real photos the sketches were made from;
  with ``--real DIR``, for any translation model: against real images of its target domain (first N of DIR).
Held-out images: face2genshin testA (never used for distillation) and the four bundled samples, centre-cropped to
the teacher's size; a sketch model gets sketches of them in its training style.

``--draw MODEL``: the Draw page's stroke-to-result time at 256 px with MODEL (a copy whose canvas is 256 px), through
the real page (``bench_draw.measure``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import ROOT, append_results, isolated_home, machine  # noqa: E402

SHARED = ROOT.parent / "shared"


TEST_A = SHARED / "datasets" / "face2genshin" / "testA"


def held_out(n: int, size: int, sketch_style=None, folder: str = ""):
    """(names, inputs, photos): uint8 size x size images; inputs are sketches of the photos for sketch models.
    ``folder``: the first ``n`` images of another held-out folder, without the bundled samples (say, anime portraits
    for anime2face)."""
    from engine.draw import fit_square
    from engine.imageio import load_image
    from engine.sketch import make_sketch

    files = sorted(Path(folder or TEST_A).iterdir())[:n]
    if not folder:
        files += sorted(p for p in (ROOT / "resources" / "samples").iterdir() if p.suffix.lower() in (".png", ".jpg"))
    names, inputs, photos = [], [], []
    for f in files:
        photo = fit_square(load_image(f).to_uint8().rgb, size)
        names.append(f.name)
        photos.append(photo)
        inputs.append(make_sketch(photo, sketch_style) if sketch_style is not None else photo)
    return names, inputs, photos


def outputs(net, images):
    import torch

    out = []
    with torch.inference_mode():
        for im in images:
            x = torch.from_numpy(im).permute(2, 0, 1)[None].float() / 127.5 - 1
            y = net(x)
            out.append(((y[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy())
    return out


def latency(nets: dict, size: int, iters: int) -> dict:
    """Wall-clock and CPU time (``time.thread_time``, exact with one torch thread) per forward, interleaved."""
    import torch

    x = torch.rand(1, 3, size, size) * 2 - 1
    wall = {k: [] for k in nets}
    cpu = {k: [] for k in nets}
    with torch.inference_mode():
        for net in nets.values():
            net(x)
        for _ in range(iters):
            for k, net in nets.items():
                t, c = time.perf_counter(), time.thread_time()
                net(x)
                cpu[k].append((time.thread_time() - c) * 1000)
                wall[k].append((time.perf_counter() - t) * 1000)
    return {k: {"min_ms": round(min(wall[k]), 1), "median_ms": round(statistics.median(wall[k]), 1),
                "cpu_min_ms": round(min(cpu[k]), 1)} for k in nets}


def folder_throughput(model_id: str, photos, n: int) -> dict:
    from engine.imageio import save_image
    from engine.jobs import run_inline
    from engine.translate import TranslateConfig, translate_task

    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in"
        for i in range(n):
            save_image(src / f"{i:03d}.jpg", photos[i % len(photos)])
        cfg = TranslateConfig(model=model_id, inputs=(str(src),), out_dir=str(Path(d) / "out"), device="cpu")
        run_inline(translate_task, cfg.replace(inputs=(str(src / "000.jpg"),), out_dir=str(Path(d) / "warm")))
        t, c = time.perf_counter(), time.process_time()
        res = run_inline(translate_task, cfg)
        sec, cpu = time.perf_counter() - t, time.process_time() - c
    n = len(res.translated)
    return {"n": n, "seconds": round(sec, 2), "img_per_s": round(n / sec, 2), "cpu_seconds": round(cpu, 2),
            "img_per_cpu_s": round(n / cpu, 2)}


def fidelity(t_out, s_out) -> dict:
    from engine.metrics.fidelity import psnr, ssim

    p = [psnr(a, b) for a, b in zip(t_out, s_out)]
    s = [ssim(a, b) for a, b in zip(t_out, s_out)]
    return {"psnr_mean": round(statistics.mean(p), 2), "psnr_min": round(min(p), 2),
            "psnr_median": round(statistics.median(p), 2), "ssim_mean": round(statistics.mean(s), 4)}


def fid(real, fake, extractor) -> dict:
    import numpy as np

    from engine.metrics import compute_metrics

    res = compute_metrics(np.stack(real), np.stack(fake), metrics=("fid", "kid"), extractor=extractor)
    out = {"fid": round(float(res["fid"]), 2) if "fid" in res else "n/a",
           "kid_x1000": round(float(res["kid"]) * 1000, 2) if "kid" in res else "n/a",
           "n": int(res.get("n_fake", len(fake)))}
    if res.get("messages"):
        out["why_missing"] = res["messages"]
    return out


def bench_pair(teacher_id: str, student_id: str, a, extractor) -> dict:
    from engine.library import ModelLibrary
    from engine.models.macs import model_macs
    from engine.models.networks import count_params
    from engine.sketch import style_from_meta

    lib = ModelLibrary()
    t_info, s_info = lib.resolve(teacher_id), lib.resolve(student_id)
    teacher, student = lib.load(t_info).module, lib.load(s_info).module
    size = a.size or int(t_info.meta.get("image_size") or 256)
    sketch = style_from_meta(t_info.meta) if t_info.meta.get("input_kind") == "sketch" else None
    names, inputs, photos = held_out(a.n, size, sketch, a.inputs)
    out = {"teacher": teacher_id, "student": student_id, "eval_size": size, "held_out": len(names),
           "macs_256": {"teacher": model_macs(t_info.meta), "student": model_macs(s_info.meta)},
           "params": {"teacher": count_params(teacher), "student": count_params(student)}}
    out["macs_ratio"] = round(out["macs_256"]["teacher"] / out["macs_256"]["student"], 1)
    lat = latency({"teacher": teacher, "student": student}, 256, a.iters)
    out["latency_256"] = dict(lat, speedup_min=round(lat["teacher"]["min_ms"] / lat["student"]["min_ms"], 2),
                              speedup_median=round(lat["teacher"]["median_ms"] / lat["student"]["median_ms"], 2),
                              speedup_cpu=round(lat["teacher"]["cpu_min_ms"] / lat["student"]["cpu_min_ms"], 2))
    print(json.dumps({"pair": f"{teacher_id}:{student_id}", "latency_256": out["latency_256"]}), flush=True)
    t0 = time.perf_counter()
    t_out = outputs(teacher, inputs)
    s_out = outputs(student, inputs)
    out["fidelity"] = fidelity(t_out, s_out)
    out["fidelity"]["seconds"] = round(time.perf_counter() - t0, 1)
    out["fid_student_vs_teacher"] = fid(t_out, s_out, extractor)
    if sketch is not None:
        out["fid_vs_real_photos"] = {"teacher": fid(photos, t_out, extractor), "student": fid(photos, s_out, extractor)}
    if a.real:  # the real target domain (anime portraits for face2anime), the same N as the outputs
        real = held_out(len(t_out), size, folder=a.real)[2]
        out["fid_vs_real_target"] = {"folder": a.real, "teacher": fid(real, t_out, extractor),
                                     "student": fid(real, s_out, extractor)}
    print(json.dumps({"pair": f"{teacher_id}:{student_id}", "fidelity": out["fidelity"]}), flush=True)
    photos256 = held_out(a.n, 256, folder=a.inputs)[2]
    out["folder_256"] = {"student": folder_throughput(student_id, photos256, a.folder_n),
                         "teacher": folder_throughput(teacher_id, photos256, a.teacher_folder_n)}
    return out


def draw_latency(model_id: str, strokes: int) -> dict:
    """The Draw page at 256 px with a copy of ``model_id`` whose canvas is 256 px (``image_size`` 256)."""
    from engine.checkpoint import load_checkpoint, save_checkpoint
    from engine.library import ModelLibrary

    info = ModelLibrary().resolve(model_id)
    ckpt = load_checkpoint(info.path)
    meta = dict(ckpt.meta, image_size=256)
    meta.pop("distilled_from", None)  # its own entry in the picker, so exactly this network runs
    new_id = f"{info.id}-256"
    meta["model"] = dict(meta["model"], id=new_id, name=f"{info.name} at 256 px")
    home = Path(os.environ["GANSTUDIO_HOME"])
    save_checkpoint(home / "models" / new_id / "model.safetensors", ckpt.tensors, meta)
    import bench_draw

    app, win, page = bench_draw.open_draw_page()
    res = bench_draw.measure(app, page, new_id, strokes)
    win.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", default="vintagify:vintagify-fast,sketch2face:sketch2face-fast")
    ap.add_argument("--n", type=int, default=97, help="held-out face2genshin testA photos (plus the 4 samples)")
    ap.add_argument("--size", type=int, default=0,
                    help="fidelity at this size (0 = the teacher's image_size, else 256; 128 for the face models)")
    ap.add_argument("--inputs", default="", help="held-out inputs from this folder instead (no samples added)")
    ap.add_argument("--real", default="",
                    help="real images of the target domain: FID/KID of teacher and student outputs against them")
    ap.add_argument("--folder-n", type=int, default=100)
    ap.add_argument("--teacher-folder-n", type=int, default=20)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--draw", default="", help="model id for the Draw page latency at 256 px ('' = skip)")
    ap.add_argument("--strokes", type=int, default=6)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    isolated_home("compress")
    os.environ.setdefault("GANSTUDIO_DEVICE", "cpu")
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from engine.metrics import FeatureExtractor

    extractor = FeatureExtractor(torch.device("cpu"))
    out = {"machine": machine(), "pairs": []}
    for pair in filter(None, a.pairs.split(",")):
        t, s = pair.split(":")
        out["pairs"].append(bench_pair(t, s, a, extractor))
        print(json.dumps(out["pairs"][-1]), flush=True)
    if a.draw:
        out["draw_256"] = draw_latency(a.draw, a.strokes)
        print(json.dumps({"draw_256": out["draw_256"]}), flush=True)
    out["machine_after"] = machine()
    print(json.dumps(out))
    if a.write:
        write(a, out)


def write(a, out) -> None:
    cmd = "python benchmarks/bench_compress.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if v not in (None, False, "") and k != "write")
    rows = []
    for p in out["pairs"]:
        f, l, fo = p["fidelity"], p["latency_256"], p["folder_256"]
        rows.append(
            f"| {p['teacher']} → {p['student']} | {p['macs_256']['teacher'] / 1e9:.2f} G → "
            f"{p['macs_256']['student'] / 1e9:.2f} G ({p['macs_ratio']}x) | {p['params']['teacher'] / 1e6:.2f} M → "
            f"{p['params']['student'] / 1e6:.3f} M | {l['teacher']['cpu_min_ms']} → {l['student']['cpu_min_ms']} "
            f"(**{l['speedup_cpu']}x**) | {l['teacher']['min_ms']} → {l['student']['min_ms']} ({l['speedup_min']}x) | "
            f"{fo['teacher']['img_per_cpu_s']} → **{fo['student']['img_per_cpu_s']}** | {fo['teacher']['img_per_s']} → "
            f"{fo['student']['img_per_s']} | {f['psnr_mean']} (min {f['psnr_min']}, median {f['psnr_median']}) | "
            f"{f['ssim_mean']} | "
            f"{p['fid_student_vs_teacher']['fid']} / {p['fid_student_vs_teacher']['kid_x1000']} "
            f"(N {p['fid_student_vs_teacher']['n']}) |")
    text = (f"Machine: {out['machine']} (after: {out['machine_after'].split('load avg ')[-1]}). "
            f"Command: `{cmd.strip()}`.\n\n"
            "Teacher → student per pair, in one process. Latency: one 256x256 image, teacher and student interleaved, "
            "min over the iterations, as CPU time of the one torch thread (robust to the other load on this shared "
            "machine) and as wall-clock time. Folder: `translate_task` end to end on 256x256 JPEGs (decode, "
            f"translate, encode, write; {a.folder_n} photos for the student, {a.teacher_folder_n} for the teacher), "
            "images per CPU-second of the process and per wall-clock second. "
            "Fidelity: student output vs teacher output on held-out images (face2genshin testA + the 4 bundled "
            "samples, centre-cropped to the teacher's size; sketches of them for sketch models); FID/KID×1000 of "
            "student outputs against teacher outputs (TF Inception FID weights, small N: read KID).\n\n"
            "| pair | MACs at 256² | params | CPU ms at 256² | wall ms at 256² | folder img/CPU-s | folder img/s wall | "
            "PSNR dB | SSIM | FID / KID×1000 vs teacher |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    for p in out["pairs"]:
        if "fid_vs_real_photos" in p:
            r = p["fid_vs_real_photos"]
            text += (f"\n{p['teacher']} / {p['student']}: FID (KID×1000) against the real photos the held-out "
                     f"sketches were made from: teacher {r['teacher']['fid']} ({r['teacher']['kid_x1000']}), student "
                     f"{r['student']['fid']} ({r['student']['kid_x1000']}), N {r['student']['n']}.\n")
        if "fid_vs_real_target" in p:
            r = p["fid_vs_real_target"]
            text += (f"\n{p['teacher']} / {p['student']}: FID (KID×1000) against the real target domain "
                     f"(`{Path(r['folder']).name}`, first N): teacher {r['teacher']['fid']} "
                     f"({r['teacher']['kid_x1000']}), student {r['student']['fid']} ({r['student']['kid_x1000']}), "
                     f"N {r['student']['n']}.\n")
    if "draw_256" in out:
        d = out["draw_256"]
        text += (f"\nDraw page at 256 px with `{d['model']}` ({d['arch']}): stroke end to result, median (min–max): "
                 f"quick strokes {d['quick_stroke_ms']['median']} ms ({d['quick_stroke_ms']['min']}–"
                 f"{d['quick_stroke_ms']['max']}), slow strokes {d['slow_stroke_ms']['median']} ms "
                 f"({d['slow_stroke_ms']['min']}–{d['slow_stroke_ms']['max']}); engine render "
                 f"{d['engine_render_ms']['median']} ms.\n")
    print("appended to", append_results("bench_compress (compressed generators vs their teachers)", text))


if __name__ == "__main__":
    main()
