"""Entry point of ``hpo-desktop`` and ``python -m hpo_desktop``.

Subcommands (run, resume, show, export) go to the headless command line. With
no command, or with ``--demo``, the built-in digits example runs; until the
desktop window lands it runs headless in the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from . import cli

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def example_path(name: str = "digits_mlp.toml") -> Path:
    """A spec shipped in resources/examples/."""
    return RESOURCES / "examples" / name


def demo_db() -> Path:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("hpo-desktop", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "demo.db"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args == ["--demo"]:
        spec = example_path()
        if not spec.exists():
            print(f"error: the built-in example {spec} is missing from this installation", file=sys.stderr)
            return cli.EXIT_USAGE
        db = demo_db()
        print(f"Running the built-in example {spec.name}; results go to {db}")
        return cli.main(["run", str(spec), "--db", str(db)])
    return cli.main(args)
