"""``ganstudio models``: list the models with their source."""
from __future__ import annotations

import json


def add_parser(sub):
    p = sub.add_parser("models", help="list available models")
    p.add_argument("--json", action="store_true")
    p.add_argument("--task", default=None, help="only models for this task (translate, generate, ...)")
    return p


def run(args) -> int:
    from engine.fastmodels import teacher_of
    from engine.library import ModelLibrary
    from engine.models.macs import format_macs, model_macs
    from engine.multidomain import domain_names, is_multi_domain

    lib = ModelLibrary()
    if args.task is not None:
        from engine.errors import ConfigError

        known = sorted({m.task for m in lib.list()} | {"translate", "generate"})
        if args.task not in known:
            raise ConfigError(f"--task {args.task!r} is not a task; choose one of {', '.join(known)}.")
    models = lib.list(task=args.task)
    macs = {m.id: model_macs(m.meta) for m in models}
    if args.json:
        print(json.dumps([{"id": m.id, "name": m.name, "family": m.family, "task": m.task, "source": m.source,
                           "direction": m.direction, "arch": m.arch, "path": str(m.path), "input": m.input,
                           "macs_256": macs[m.id],
                           **({"domains": domain_names(m.meta)} if is_multi_domain(m) else {}),
                           **({"distilled_from": teacher_of(m)} if teacher_of(m) else {})}
                          for m in models], indent=2))
        return 0
    if not models:
        print("No models found.")
    try:
        default = lib.default().id  # what `translate` uses without --model
    except Exception:  # noqa: BLE001 - no translate model: nothing to mark
        default = ""
    w = max([len(m.id) for m in models] + [2])
    if models:
        print(f"{'ID (--model)':<{w}}  {'SOURCE':<8} {'FAMILY':<9} {'TASK':<10} {'COMPUTE':>11}  NAME")
    for m in models:
        size = f"{format_macs(macs[m.id])}MACs" if macs[m.id] else "-"
        mark = "  (default for translate)" if m.id == default else ""
        print(f"{m.id:<{w}}  {m.source:<8} {m.family:<9} {m.task:<10} {size:>11}  {m.name}{mark}")
        if is_multi_domain(m):
            print(f"{'':<{w}}  domains (--domain): {', '.join(domain_names(m.meta))}")
    for path, why in lib.problems:
        print(f"(unreadable: {path}: {why})")
    return 0
