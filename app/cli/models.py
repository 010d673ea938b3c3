"""``ganstudio models``: list the models with their source."""
from __future__ import annotations

import json


def add_parser(sub):
    p = sub.add_parser("models", help="list available models")
    p.add_argument("--json", action="store_true")
    p.add_argument("--task", default=None, help="only models for this task (translate, generate, ...)")
    return p


def run(args) -> int:
    from engine.library import ModelLibrary
    from engine.multidomain import domain_names, is_multi_domain

    lib = ModelLibrary()
    models = lib.list(task=args.task)
    if args.json:
        print(json.dumps([{"id": m.id, "name": m.name, "family": m.family, "task": m.task, "source": m.source,
                           "direction": m.direction, "arch": m.arch, "path": str(m.path), "input": m.input,
                           **({"domains": domain_names(m.meta)} if is_multi_domain(m) else {})}
                          for m in models], indent=2))
        return 0
    if not models:
        print("No models found.")
    w = max([len(m.id) for m in models] + [2])
    for m in models:
        print(f"{m.id:<{w}}  {m.source:<8} {m.family:<9} {m.task:<10} {m.name}")
        if is_multi_domain(m):
            print(f"{'':<{w}}  domains (--domain): {', '.join(domain_names(m.meta))}")
    for path, why in lib.problems:
        print(f"(unreadable: {path}: {why})")
    return 0
