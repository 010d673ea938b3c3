"""``ganstudio import``: convert a foreign checkpoint (.pth) into a GAN Studio model in the user library."""
from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("import", help="import a .pth or .safetensors generator into your model library")
    p.add_argument("file")
    p.add_argument("--name", default=None, help="display name")
    p.add_argument("--fp16", action="store_true", help="store weights in half precision")
    return p


def run(args) -> int:
    from engine.library import ModelLibrary

    info = ModelLibrary().import_model(args.file, args.name, fp16=args.fp16)
    print(f"Imported {info.name} as {info.id} ({info.arch}) -> {info.path}")
    return 0
