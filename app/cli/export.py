"""``ganstudio export``: a model as ONNX (with a parity check), as a standalone app, or as .safetensors + card.

    ganstudio export onnx MODEL --out FILE.onnx
    ganstudio export app MODEL [MODEL ...] --name NAME --out DIR [--archive]
    ganstudio export model MODEL --out DIR

MODEL is a model id or name, a .safetensors/.pth file or a training run folder, as everywhere in the CLI.
"""
from __future__ import annotations

import json
import sys

from app.cli import EXIT_FAIL, EXIT_OK
from app.cli.progress import TerminalProgress


def add_parser(sub):
    p = sub.add_parser("export", help="export a model: ONNX, standalone app, or .safetensors + card",
                       description="Export a model for use outside GAN Studio. MODEL is a model id or name, a "
                                   ".safetensors or .pth file, or a training run folder.")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    o = what.add_parser("onnx", help="ONNX file with the model card inside, checked against torch")
    o.add_argument("model", metavar="MODEL")
    o.add_argument("--out", "-o", required=True, help="FILE.onnx (the card is also written as FILE.md)")
    o.add_argument("--opset", type=int, default=18)
    o.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default="auto",
                   help="auto: torch.export (dynamo), falling back to TorchScript if the model cannot be traced")
    o.add_argument("--tolerance", type=float, default=1e-3, help="parity: max abs difference on [-1, 1] outputs")
    o.add_argument("--psi", type=float, default=0.7, help="default truncation psi of generators that take one")
    a = what.add_parser("app", help="standalone translator program (no Python or torch needed to run it)")
    a.add_argument("models", nargs="+", metavar="MODEL", help="model(s) to put in the app; the first is the default")
    a.add_argument("--name", required=True, help="program name: the executable inside DIR is called NAME")
    a.add_argument("--out", "-o", required=True, metavar="DIR", help="folder to build into (new, empty, or an "
                                                                    "earlier build with --overwrite)")
    a.add_argument("--title", default="", help="window title and menu name (default: NAME)")
    a.add_argument("--icon", default="", help=".png or .svg (default: the GAN Studio icon)")
    a.add_argument("--archive", action="store_true", help="also write DIR.tar.gz for sharing")
    a.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default="auto")
    m = what.add_parser("model", help=".safetensors model file plus its model card, for other GAN Studio users")
    m.add_argument("model", metavar="MODEL")
    m.add_argument("--out", "-o", required=True, metavar="DIR")
    m.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    for q in (o, m):
        q.add_argument("--overwrite", action="store_true", help="replace existing output files (never an input)")
    a.add_argument("--overwrite", action="store_true", help="replace an earlier build of an app in DIR (only once "
                                                            "the new build has succeeded)")
    for q in (o, a, m):
        q.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB", help="for run folders")
        q.add_argument("--json", action="store_true", help="print a JSON summary")
        q.add_argument("--quiet", "-q", action="store_true")
    return p


def run(args) -> int:
    from engine.export import BuildError, ParityError

    try:
        return {"onnx": _onnx, "app": _app, "model": _model}[args.what](args)
    except (ParityError, BuildError) as e:  # the input was fine; the export itself failed
        print(f"ganstudio: error: {e}", file=sys.stderr)
        return EXIT_FAIL


def _bar(args) -> TerminalProgress:
    return TerminalProgress(quiet=args.quiet or args.json)


def _onnx(args) -> int:
    from engine.export.onnx import OnnxExportConfig, export_onnx_task
    from engine.jobs import run_inline

    cfg = OnnxExportConfig(model=args.model, out=args.out, direction=args.direction, opset=args.opset,
                           exporter=args.exporter, tolerance=args.tolerance, psi=args.psi,
                           overwrite=args.overwrite)
    res = run_inline(export_onnx_task, cfg, on_event=_bar(args))
    if args.json:
        print(json.dumps({"path": str(res.path), "card": str(res.card_path) if res.card_path else None,
                          "size": res.path.stat().st_size, "export": res.card["export"], "io": res.card["io"],
                          "parity": res.parity, "notes": res.notes, "seconds": round(res.seconds, 2)}, indent=2))
    elif not args.quiet:
        print(res.message())
    return EXIT_OK


def _app(args) -> int:
    from engine.export.app_builder import BuildAppConfig, build_app_task
    from engine.jobs import run_inline

    cfg = BuildAppConfig(models=tuple(args.models), name=args.name, out_dir=args.out, title=args.title,
                         icon=args.icon, direction=args.direction, archive=args.archive, exporter=args.exporter,
                         overwrite=args.overwrite)
    res = run_inline(build_app_task, cfg, on_event=_bar(args))
    if args.json:
        print(json.dumps({"dir": str(res.out_dir), "executable": str(res.executable), "size": res.size,
                          "archive": str(res.archive) if res.archive else None, "models": res.models,
                          "log": str(res.log), "seconds": round(res.seconds, 1)}, indent=2))
    elif not args.quiet:
        print(res.message())
        print(f"Run it: {res.executable}   Install it: {res.executable} --install")
    return EXIT_OK


def _model(args) -> int:
    from engine.export.package import ModelExportConfig, export_model_task
    from engine.jobs import run_inline

    cfg = ModelExportConfig(model=args.model, out_dir=args.out, direction=args.direction, fp16=args.fp16,
                            overwrite=args.overwrite)
    res = run_inline(export_model_task, cfg, on_event=_bar(args))
    if args.json:
        print(json.dumps({"path": str(res.path), "card": str(res.card_path), "size": res.size}, indent=2))
    elif not args.quiet:
        print(res.message())
    return EXIT_OK
