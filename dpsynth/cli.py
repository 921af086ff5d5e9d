"""Command line: a thin layer over the Python API.

Exit codes: 0 success; 1 a release failed its policy (reserved for the audit); 2 bad input or
a refused budget (a one-line error on stderr, never a traceback and never a private value);
3 an unexpected internal error (its text is not printed, since it could quote data; --debug
shows the traceback on the custodian's own terminal).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from dpsynth import __version__
from dpsynth.errors import DpsynthError

EXIT_OK, EXIT_POLICY, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

RELEASE_EXAMPLES = """examples:
  dpsynth release --example adult --epsilon 1 --out adult-release
  dpsynth release data.csv --epsilon 1 --delta 1e-9 --schema schema.json --out release
  dpsynth release people.csv --epsilon 3 --privacy-unit pid --max-rows-per-unit 4 --out release
"""

SCHEMA_EXAMPLES = """examples:
  dpsynth schema infer data.csv --out schema.json          (not DP: review before use)
  dpsynth schema infer data.csv --dp --epsilon 0.1 --out schema.json
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpsynth", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dpsynth {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of internal errors (they may quote private data)")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser(
        "release",
        help="turn a private CSV into a DP synthetic CSV and its release record",
        epilog=RELEASE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    release.add_argument("data", nargs="?", help="private CSV file with a header row")
    release.add_argument("--example", choices=["adult"], help="use a public example shipped with dpsynth")
    release.add_argument("--epsilon", type=float, required=True, help="total epsilon of the release")
    release.add_argument("--delta", type=float, default=1e-9, help="total delta (default 1e-9)")
    release.add_argument("--out", required=True, help="new folder to write the release into")
    release.add_argument("--schema", help="public schema: dpsynth JSON/YAML, or an mbi domain file")
    release.add_argument("--method", default="mst", help="generator (default mst)")
    release.add_argument("--rows", type=_positive_int, help="synthetic rows (default: a DP estimate)")
    release.add_argument("--privacy-unit", help="column naming the person whose privacy is protected")
    release.add_argument("--max-rows-per-unit", type=_positive_int, default=1,
                         help="rows kept per person (default 1); sensitivities scale with it")
    release.add_argument("--allocation", help="budget split, e.g. domain=0.1,marginal=0.9")
    release.add_argument("--binning", choices=["uniform", "quantile"], default="uniform",
                         help="numeric bins when the schema is discovered under DP (default uniform)")
    release.add_argument("--seed", type=int, help="seed the noise (reproducible: NOT for publication)")
    release.add_argument("--ledger", help="budget ledger file (default $DPSYNTH_LEDGER or "
                         "$XDG_DATA_HOME/dpsynth/ledger.sqlite)")
    release.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    release.add_argument("--json", action="store_true", help="print the release record as JSON")
    release.set_defaults(handler=_release)

    schema = commands.add_parser("schema", help="write a schema file for a dataset")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_commands.add_parser(
        "infer",
        help="infer a schema to review (or discover it under DP with --dp)",
        epilog=SCHEMA_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    infer.add_argument("data", help="CSV file with a header row")
    infer.add_argument("--out", required=True, help="schema file to write (.json or .yaml)")
    infer.add_argument("--dp", action="store_true", help="discover bounds and categories under DP")
    infer.add_argument("--epsilon", type=float, help="epsilon for --dp")
    infer.add_argument("--delta", type=float, default=1e-9, help="delta for --dp (default 1e-9)")
    infer.add_argument("--ledger", help="budget ledger file charged by --dp")
    infer.add_argument("--seed", type=int, help="seed the noise (NOT for publication)")
    infer.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    infer.set_defaults(handler=_schema_infer)

    ledger = commands.add_parser("ledger", help="privacy spent per dataset, and lifetime caps")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    show = ledger_commands.add_parser("show", help="spend and cap of every dataset in the ledger")
    show.add_argument("--ledger", help="ledger file (default as for release)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_ledger_show)
    cap = ledger_commands.add_parser(
        "cap", help="set a dataset's lifetime cap",
        epilog="example:\n  dpsynth ledger cap data.csv --epsilon 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cap.add_argument("data", help="the dataset, read exactly as the release reads it")
    cap.add_argument("--epsilon", type=float, required=True, help="lifetime epsilon cap")
    cap.add_argument("--delta", type=float, help="lifetime delta cap (optional)")
    cap.add_argument("--ledger", help="ledger file (default as for release)")
    cap.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    cap.set_defaults(handler=_ledger_cap)
    return parser


def _release(args: argparse.Namespace) -> int:
    from dpsynth.datasets import example_path
    from dpsynth.progress import Progress
    from dpsynth.release.pipeline import release

    if (args.data is None) == (args.example is None):
        raise DpsynthError("give either a DATA file or --example, not both or neither")
    data, schema, na_values = args.data, args.schema, args.na_values
    if args.example:
        data, example_schema = example_path(args.example)
        schema = schema or example_schema
        na_values = na_values or ["?"]
    result = release(
        data,
        epsilon=args.epsilon,
        delta=args.delta,
        out=args.out,
        schema=schema,
        method=args.method,
        n_rows=args.rows,
        privacy_unit=args.privacy_unit,
        max_rows_per_unit=args.max_rows_per_unit,
        allocation=args.allocation,
        seed=args.seed,
        ledger=args.ledger,
        na_values=na_values,
        binning=args.binning,
        progress=Progress(6),
    )
    if args.json:
        print(json.dumps(result.record, indent=2))
    else:
        print(result.record["statement"])
        print(f"wrote {result.out}/synthetic.csv ({len(result.synthetic)} rows) and release.json")
    return EXIT_OK


def _schema_infer(args: argparse.Namespace) -> int:
    from dpsynth.release.schema_file import write_schema

    path = write_schema(
        args.data,
        out=args.out,
        dp=args.dp,
        epsilon=args.epsilon,
        delta=args.delta,
        ledger=args.ledger,
        seed=args.seed,
        na_values=args.na_values,
    )
    print(f"wrote {path}")
    return EXIT_OK


def _ledger_show(args: argparse.Namespace) -> int:
    from dpsynth.release.ledger_commands import ledger_show

    rows = ledger_show(args.ledger)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("the ledger records no release yet")
    for row in rows:
        cap = "no cap" if row["epsilon_cap"] is None else f"cap epsilon={row['epsilon_cap']:g}"
        labels = ", ".join(row["labels"]) or "unlabelled"
        print(f"{row['fingerprint'][:23]}  {labels}: {row['releases']} release(s), "
              f"epsilon={row['epsilon_spent']:.4g}, delta={row['delta_spent']:.3g}, {cap}")
    return EXIT_OK


def _ledger_cap(args: argparse.Namespace) -> int:
    from dpsynth.release.ledger_commands import ledger_cap

    fingerprint = ledger_cap(args.data, args.epsilon, args.delta, args.ledger, args.na_values)
    print(f"cap set for {fingerprint[:23]}: epsilon={args.epsilon:g}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("absl").setLevel(logging.ERROR)
    try:
        return args.handler(args)
    except (DpsynthError, OSError) as error:
        print(f"dpsynth: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("dpsynth: interrupted; nothing was released", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        if args.debug:
            raise
        print(
            f"dpsynth: internal error ({type(error).__name__}); nothing was released. "
            "Re-run with --debug to see the traceback (it may show private values).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
