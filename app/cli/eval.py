"""``ganstudio eval``: FID, KID, IS, precision/recall and diversity of generated images against real ones.

    ganstudio eval REAL_DIR FAKE_DIR [--metrics fid,kid,is,pr,diversity] [--json]
    ganstudio eval --model MODEL --input DIR --real DIR [...]

``--json`` prints one object with the keys ``fid``, ``kid``, ``kid_std``, ``is``, ``is_std``, ``precision``,
``recall``, ``n_real``, ``n_fake``, ``extractor`` (metrics not computed are left out; ``extractor`` names the weights
and the resize filter). Why a metric was left out, skipped files and the diversity numbers go to stderr; ``--details
FILE`` writes the full result (every key, the mode-collapse clusters) and ``--report FILE.html`` an HTML report.
"""
from __future__ import annotations

import json
import os
import sys

from app.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL
from app.cli.progress import TerminalProgress
from engine.errors import printable

JSON_KEYS = ("fid", "kid", "kid_std", "is", "is_std", "precision", "recall", "n_real", "n_fake", "extractor")


def add_parser(sub):
    from engine.metrics import metric_names

    p = sub.add_parser("eval", help="FID, KID, IS, precision/recall and diversity of generated images",
                       description="Compare generated images with real ones: two folders, or a model translating "
                                   "an input folder (e.g. testA) compared with the real target folder (testB).")
    p.add_argument("real_dir", nargs="?", metavar="REAL_DIR", help="folder of real images")
    p.add_argument("fake_dir", nargs="?", metavar="FAKE_DIR", help="folder of generated images")
    p.add_argument("--model", "-m", default="", help="evaluate a model: id, name, file or run folder")
    p.add_argument("--input", "-i", action="append", default=[], metavar="DIR",
                   help="images the model translates (with --model)")
    p.add_argument("--real", default="", metavar="DIR", help="real images to compare with (with --model)")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB", help="for run folders")
    p.add_argument("--out", default="", help="where the model's outputs are written (an empty or new folder)")
    p.add_argument("--metrics", default=",".join(metric_names(quick=True)),
                   help=f"comma-separated: {','.join(metric_names())} (default: %(default)s)")
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--kid-subset-size", type=int, default=1000)
    p.add_argument("--k", type=int, default=3, help="k of the k-NN manifolds for precision/recall")
    p.add_argument("--classifier", default="", help="feature classifier file for the classifier-based diversity")
    p.add_argument("--inception-weights", default="",
                   help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth, needed for the Inception Score")
    p.add_argument("--no-cache", action="store_true", help="do not use or write cached features of REAL_DIR")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--json", action="store_true", help="print the JSON object described above")
    p.add_argument("--details", default=None, metavar="FILE", help="write the full result as JSON")
    p.add_argument("--report", default=None, metavar="FILE", help="write an HTML report with sample grids")
    p.add_argument("--overwrite", action="store_true", help="replace existing --details/--report files")
    p.add_argument("--allow-same", action="store_true", help="allow REAL_DIR and FAKE_DIR to be the same folder")
    p.add_argument("--quiet", "-q", action="store_true")
    return p


def build_config(args):
    from engine.errors import ConfigError
    from engine.metrics import EvalConfig, MetricOptions
    from engine.metrics.api import same_sets

    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    opts = MetricOptions(kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size, pr_k=args.k,
                         classifier=args.classifier)
    common = dict(metrics=metrics, options=opts, device=args.device, is_weights=args.inception_weights,
                  cache_real=not args.no_cache, samples=16 if args.report else 0,
                  cluster_examples=6 if args.report else 0)
    if args.model:
        real = args.real or args.real_dir
        if not real or not args.input:
            raise ConfigError("With --model give the images to translate (--input DIR) and the real images to "
                              "compare with (--real DIR).")
        return EvalConfig(real=(real,), model=args.model, inputs=tuple(args.input), direction=args.direction,
                          out_dir=args.out, **common)
    if not args.real_dir or not args.fake_dir:
        raise ConfigError("Give two folders (REAL_DIR FAKE_DIR), or --model MODEL --input DIR --real DIR.")
    if not args.allow_same and same_sets((args.real_dir,), (args.fake_dir,)):
        raise ConfigError(f"REAL_DIR and FAKE_DIR are the same folder ({args.fake_dir}), so FID and KID would be 0 "
                          "by construction; give two different folders, or --allow-same to compare a folder with "
                          "itself on purpose.")
    return EvalConfig(real=(args.real_dir,), fake=(args.fake_dir,), allow_same=args.allow_same, **common)


def run(args) -> int:
    from engine.jobs import run_inline
    from engine.metrics import eval_task

    cfg = build_config(args)
    outputs = check_outputs(args)  # before any work: never over an input, never replace without --overwrite
    bar = TerminalProgress(quiet=args.quiet or args.json)
    ev = run_inline(eval_task, cfg, on_event=bar)
    res = ev.metrics
    if args.details is not None:
        from engine.outputs import write_output_text

        write_output_text(args.details, json.dumps(res, indent=2, default=str) + "\n", what="--details file",
                          **outputs)
    if args.report is not None:
        from engine.metrics.report import save_html

        save_html(args.report, [ev], **outputs)
    if args.json:
        out = {k: res[k] for k in JSON_KEYS if k in res}
        out["extractor"] = f"{res['extractor']}; resize: {res['resize']}"
        print(json.dumps(out, indent=2))
    elif not args.quiet:
        print_human(res)
    explain(res, sys.stderr, quiet=args.quiet)
    if set(res["metrics"]) <= set(res["messages"]):  # nothing could be computed
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL if res["messages"] or res["skipped"] else EXIT_OK


def check_outputs(args) -> dict:
    """The --details/--report files, checked by the output policy; returns the policy arguments for writing."""
    from engine.errors import ConfigError
    from engine.outputs import check_output

    inputs = [p for p in (args.real_dir, args.fake_dir, args.real, args.out, *args.input) if p]
    for flag, value in (("--details", args.details), ("--report", args.report)):
        if value is not None:
            check_output(value, inputs=inputs, overwrite=args.overwrite, what=f"{flag} file")
    if args.details and args.report and os.path.realpath(args.details) == os.path.realpath(args.report):
        raise ConfigError(f"--details and --report name the same file {args.details}; give two names.")
    return {"inputs": inputs, "overwrite": args.overwrite}


def print_human(res) -> None:
    from engine.metrics.report import COLUMNS, cell

    print(f"{res.get('label', '')}: {res['n_fake']} generated vs {res['n_real']} real images")
    for key, title, fmt in COLUMNS:
        if key in res and key not in ("n_real", "n_fake"):
            print(f"  {title.rstrip(' ↑↓'):<22} {cell(res, key, fmt)}")
    print(f"  extractor: {res['extractor']}; resize: {res['resize']}")


def explain(res, stream, quiet: bool = False) -> None:
    """Why metrics are missing, what was skipped, notes and the diversity numbers (stderr in --json mode)."""
    for name, text in res.get("messages", {}).items():
        print(f"ganstudio: {name}: {printable(text)}", file=stream)
    for s in res.get("skipped", []):
        print(f"ganstudio: skipped {printable(s['path'])} ({s['set']}): {printable(s['reason'])}", file=stream)
    if quiet:
        return
    for key in ("fid_note", "kid_note"):
        if res.get(key):
            print(f"ganstudio: note: {res[key]}", file=stream)
    if res.get("mode_collapse_summary"):
        print(f"ganstudio: mode collapse: {res['mode_collapse_summary']}", file=stream)
    if "diversity_fake" in res:
        extra = f", real {res['diversity_real']:.3f} (ratio {res['diversity_ratio']:.3f})" \
            if "diversity_real" in res else ""
        print(f"ganstudio: diversity (mean pairwise feature distance): generated {res['diversity_fake']:.3f}{extra}",
              file=stream)
    if res.get("classifier"):
        print(f"ganstudio: {res['classifier']}: class entropy {res['classifier_class_entropy']:.3f} of "
              f"{res['classifier_max_entropy']:.3f}, mean per-image entropy {res['classifier_mean_entropy']:.3f}",
              file=stream)
