"""The ``lcne`` command line.

The subcommands are listed in one static table, :data:`SUBCOMMANDS`: subcommand name ->
the module whose ``register(subparsers)`` adds it. Every module of the table is imported
here with a plain import, so a broken subcommand module fails loudly (with its traceback)
at ``lcne --help`` instead of disappearing from the list. Imports point one way only:
``cli`` -> ``cli_*`` -> ``cli_args`` (the shared argument types); no subcommand module
imports this one.

Errors the user can fix are printed as one line, ``lcne: error: ...``, with exit code 2;
set ``LCNE_DEBUG=1`` to see the traceback. Ctrl-C exits with code 130.
"""
from __future__ import annotations

import logging
import os
import sys

from lcne.experiments import cli_analysis, cli_bench, cli_report, cli_run, cli_spiking, cli_sweep
from lcne.experiments.cli_args import OneLineParser
from lcne.experiments.cli_run import config_from_args

__all__ = ["main", "build_parser", "config_from_args", "SUBCOMMANDS"]
log = logging.getLogger("lcne")

#: subcommand name -> module that adds it with ``register(subparsers)``, in ``--help`` order.
#: A module that adds several subcommands appears once per name and is registered once.
SUBCOMMANDS = {
    "run": cli_run,
    "bench": cli_bench,
    "export-mnist": cli_run,
    "figures": cli_analysis,
    "compare-bio": cli_analysis,
    "validate-spiking": cli_spiking,
    "sweep": cli_sweep,
    "report": cli_report,
    "study-report": cli_report,
}


def build_parser() -> OneLineParser:
    """The ``lcne`` parser with every subcommand of :data:`SUBCOMMANDS`.

    Raises whatever a module's ``register`` raises, and :class:`RuntimeError` when the
    subcommands the modules added differ from the table.
    """
    parser = OneLineParser(prog="lcne", description="Noradrenergic gain modulation in learning networks.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    registered = []
    for module in SUBCOMMANDS.values():
        if module not in registered:
            module.register(sub)
            registered.append(module)
    added = set(sub.choices)
    if added != set(SUBCOMMANDS):
        raise RuntimeError(f"lcne subcommands {sorted(added)} differ from the table {sorted(SUBCOMMANDS)}")
    # --help lists the subcommands in table order (registration order differs for shared modules)
    sub._choices_actions.sort(key=lambda a: list(SUBCOMMANDS).index(a.dest))
    return parser


def main(argv=None) -> int:
    """Entry point of the ``lcne`` console script; returns the exit code."""
    from lcne.experiments.errors import LcneError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lcne: interrupted; finished result files are intact", file=sys.stderr)
        return 130
    except (LcneError, ValueError, OSError) as exc:
        if os.environ.get("LCNE_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"lcne: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
