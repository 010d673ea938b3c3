import os
import sys

from app.cli import main

code = main()
if "LOCAL_RANK" in os.environ:
    from engine.training.distributed import env_world

    if env_world() > 1:
        # A torchrun worker: its run is finished and written (checkpoints are fsynced, the process group destroyed).
        # Leave without the interpreter's teardown, where gloo's leftover C++ threads can abort the process
        # ("terminate called without an active exception", SIGABRT), which torchrun reports as a failed run.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code or 0))
raise SystemExit(code)
