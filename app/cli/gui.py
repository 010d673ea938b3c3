"""``ganstudio gui``: open the main window (the default when no command is given)."""


def add_parser(sub):
    p = sub.add_parser("gui", help="open the GAN Studio window (default)")
    p.add_argument("paths", nargs="*", help="images or folders to open")
    return p


def run(args) -> int:
    from app.main import run_gui

    return run_gui(list(args.paths))
