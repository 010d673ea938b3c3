"""``ganstudio faces prep IN OUT``: crop and align the faces of a folder of photos for training."""
from __future__ import annotations

import json
import sys

from app.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL
from app.cli.progress import TerminalProgress


def add_parser(sub):
    p = sub.add_parser("faces", help="face crops: prepare a training folder of aligned face crops",
                       description="Face tools (the MTCNN detector whose weights ship in facenet-pytorch).")
    tools = p.add_subparsers(dest="faces_command", metavar="TOOL")
    prep = tools.add_parser("prep", help="detect, align (eyes level) and crop the faces of a folder of photos",
                            description="Detect the faces in every photo of IN (searched recursively), crop each with "
                                        "a margin, rotate it so the eyes are level and write the crops as PNG to OUT "
                                        "(same sub-folders and names). IN is never written to; OUT must be new, "
                                        "empty or an earlier face-prep folder (then reused when nothing changed).")
    prep.add_argument("input", metavar="IN", help="folder of photos")
    prep.add_argument("out", metavar="OUT", help="folder for the crops")
    prep.add_argument("--size", type=int, default=256, help="crop side in px (default 256)")
    prep.add_argument("--margin", type=float, default=0.2,
                      help="fraction of the face size added on each side (default 0.2)")
    prep.add_argument("--all-faces", action="store_true", help="one crop per face (default: the clearest face)")
    prep.add_argument("--min-prob", type=float, default=0.9, help="least detector confidence (default 0.9)")
    prep.add_argument("--json", action="store_true", help="print the counts as JSON")
    prep.add_argument("--quiet", "-q", action="store_true")
    return p


def run(args) -> int:
    from engine.errors import DataError
    from engine.faces.prep import FacePrepConfig, prepare_faces, require_faces
    from engine.jobs import run_inline

    if args.faces_command != "prep":
        print("ganstudio faces: choose a tool: prep", file=sys.stderr)
        return EXIT_BAD_INPUT
    cfg = FacePrepConfig(input=args.input, out_dir=args.out, size=args.size, margin=args.margin,
                         all_faces=args.all_faces, min_prob=args.min_prob)
    res = run_inline(prepare_faces, cfg, on_event=TerminalProgress(quiet=args.quiet or args.json))
    if args.json:
        print(json.dumps(dict(res.to_dict(), reused=res.reused), indent=2))
    elif not args.quiet:
        print(res.message())
        for p in res.no_face[:20]:
            print(f"  no face: {p}", file=sys.stderr)
        if len(res.no_face) > 20:
            print(f"  ... and {len(res.no_face) - 20} more without a face", file=sys.stderr)
        for p, why in res.unreadable:
            print(f"  skipped {p}: {why}", file=sys.stderr)
    try:
        require_faces(res, f"folder {res.input.name}")
    except DataError as e:
        print(f"ganstudio: warning: {e}", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_PARTIAL if res.no_face or res.unreadable else EXIT_OK
