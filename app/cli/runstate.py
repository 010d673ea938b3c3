"""``ganstudio runstate pack RUN FILE`` / ``unpack FILE RUN``: a training run as one small file (fp16 weights, no
optimiser moments) that can be committed and continued on another machine with ``ganstudio train --resume RUN``."""
from __future__ import annotations

from app.cli import EXIT_OK


def add_parser(sub):
    p = sub.add_parser("runstate", help="pack a training run into a small resume file, or unpack one",
                       description=__doc__.split("\n\n")[0])
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pk = acts.add_parser("pack", help="RUN_DIR -> FILE.safetensors (the networks in fp16)")
    pk.add_argument("run_dir")
    pk.add_argument("file")
    pk.add_argument("--fp32", action="store_true", help="keep fp32 weights (twice the size)")
    pk.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    un = acts.add_parser("unpack", help="FILE.safetensors -> a new RUN_DIR that resumes at the packed step")
    un.add_argument("file")
    un.add_argument("run_dir")
    un.add_argument("--a", dest="data_a", default=None, help="this machine's copy of the run's folder A")
    un.add_argument("--b", dest="data_b", default=None, help="this machine's copy of the run's folder B")
    un.add_argument("--data", dest="data", default=None,
                    help="this machine's copy of the run's one folder (StyleGAN, pix2pix, ...)")
    return p


def run(args) -> int:
    from pathlib import Path

    from engine.errors import DataError
    from engine.training import resume_state

    if args.action == "pack":
        dest = Path(args.file)
        if dest.suffix != ".safetensors":
            raise DataError(f"The resume file must end in .safetensors (got {dest.name!r}).")
        if dest.is_dir():
            raise DataError(f"{dest} is a folder; give the name of the resume file to write.")
        if dest.exists() and not args.overwrite:
            raise DataError(f"{dest} already exists; choose another name or add --overwrite.")
        out = resume_state.pack(args.run_dir, dest, fp16=not args.fp32)
        print(f"packed {args.run_dir} into {out} ({out.stat().st_size / 2**20:.1f} MiB)")
        return EXIT_OK
    rf = resume_state.unpack(args.file, args.run_dir, data_a=args.data_a, data_b=args.data_b, data=args.data)
    st = rf.read_status()
    print(f"unpacked {args.file} into {rf.root} at step {st.get('step')} of {st.get('total')}; continue with: "
          f"ganstudio train {st.get('family')} --resume {rf.root}")
    return EXIT_OK
