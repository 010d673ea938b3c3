"""``ganstudio translate``: translate files, folders or globs with a model."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from app.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL
from app.cli.progress import TerminalProgress
from engine.errors import printable


def add_parser(sub):
    p = sub.add_parser("translate", help="translate images with a model",
                       description="Translate images. INPUTs are files, folders (recursive) or globs. Without --model "
                                   "the default bundled model is used; MODEL may be a model id or name, a .safetensors "
                                   "file, a foreign .pth (imported on the fly) or a training run folder.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--model", "-m", default="", help="model id, name, file or run folder")
    p.add_argument("--out", "-o", required=True, help="output folder (created if needed); for one input image, a file name such as "
                                                        "out.png also works (never replaces a file: out_1.png then)")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB", help="for run folders")
    p.add_argument("--domain", default="", metavar="NAME",
                   help="target domain of a multi-domain (StarGAN) model, by name (default: its second domain; "
                        "`ganstudio models` lists the names)")
    p.add_argument("--faces", action=argparse.BooleanOptionalAction, default=None,
                   help="--faces: detect the faces, translate each aligned crop at the model's size and blend it back "
                        "into the photo; --no-faces: translate the whole image. Default: faces for models trained on "
                        "face crops (model card: input face), whole images for the others")
    p.add_argument("--suffix", default="", help="text appended to output names")
    p.add_argument("--ext", default="", help="output format, e.g. .png (default: same as input)")
    p.add_argument("--max-side", type=int, default=0, help="downscale so the longest side is at most N px")
    p.add_argument("--tile", type=int, default=0, help="translate in tiles of N px (0: only when needed)")
    p.add_argument("--batch", type=int, default=4, help="batch size on GPU")
    p.add_argument("--precision", choices=("auto", "fp32", "fp16", "bf16"), default="auto")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--quiet", "-q", action="store_true")
    return p


def run(args) -> int:
    from engine.errors import ConfigError
    from engine.imageio import IMAGE_EXTS, SAVE_EXTS
    from engine.inference import TranslateOptions
    from engine.jobs import run_inline
    from engine.translate import TranslateConfig, translate_task

    if not args.out.strip():
        raise ConfigError("The output folder (--out) is empty; give a folder to write the translated images to.")
    ext = args.ext if not args.ext or args.ext.startswith(".") else "." + args.ext
    out = Path(args.out).expanduser()
    as_file = (out.suffix.lower() in SAVE_EXTS | IMAGE_EXTS and not out.is_dir()  # a .gif is refused, not a folder
               and not args.out.endswith(("/", os.sep)))  # "out.png/" names a folder
    if as_file and (args.suffix or ext):
        raise ConfigError(f"--out {args.out} names the output file; --suffix and --ext apply to an output folder.")
    cfg = TranslateConfig(model=args.model, inputs=tuple(args.inputs), out_dir="" if as_file else args.out,
                          out_file=args.out if as_file else "", suffix=args.suffix, ext=ext,
                          direction=args.direction, domain=args.domain, device=args.device,
                          faces={None: "auto", True: "on", False: "off"}[args.faces],
                          options=TranslateOptions(max_side=args.max_side, tile=args.tile, batch_size=args.batch,
                                                   precision=args.precision))
    bar = TerminalProgress(quiet=args.quiet or args.json)
    summary = run_inline(translate_task, cfg, on_event=bar)
    if args.json:
        print(json.dumps({"model": summary.model, "device": summary.device,
                          "translated": [{"input": str(i.source), "output": str(i.output), "notes": i.notes}
                                         for i in summary.translated],
                          "skipped": [{"input": str(p), "reason": r} for p, r in summary.skipped],
                          "seconds": round(summary.seconds, 3)}, indent=2))
    elif not args.quiet:
        print(summary.message())
        if as_file and summary.translated and summary.translated[0].output is not None:
            wrote = summary.translated[0].output
            if os.path.abspath(wrote) != os.path.abspath(out):  # a name taken, or transparency kept as PNG
                why = (["the name was taken"] if wrote.stem != out.stem else []) + (
                    ["a JPEG cannot keep the transparency"] if wrote.suffix.lower() != out.suffix.lower() else [])
                print(f"  wrote {printable(wrote)} ({'; '.join(why) or 'another name'})")
        notes = list(dict.fromkeys(n for i in summary.translated for n in i.notes))  # no face, a photo for a sketch
        for note in notes[:10]:                                                       # model, tiles...
            print(f"  {printable(note)}", file=sys.stderr)
        if len(notes) > 10:
            print(f"  … and {len(notes) - 10} more notes (--json lists them all)", file=sys.stderr)
        for p, r in summary.skipped:
            print(f"  skipped {printable(p)}: {printable(r)}", file=sys.stderr)
    if not summary.translated:
        if not args.json:
            first = (f" ({printable(summary.skipped[0][0])}: {printable(summary.skipped[0][1])}"
                     f"{f'; {len(summary.skipped) - 1} more skipped' if len(summary.skipped) > 1 else ''})"
                     if summary.skipped and args.quiet else "")  # -q hides the list above, not the reason
            print(f"ganstudio: error: no images were translated{first}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL if summary.skipped else EXIT_OK
