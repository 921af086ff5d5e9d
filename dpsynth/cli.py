"""Command line: a thin layer over the Python API.

Exit codes: 0 success; 1 a release or an audit failed its policy; 2 bad input or
a refused budget (a one-line error on stderr, never a traceback and never a private value);
3 an unexpected internal error (its text is not printed, since it could quote data; --debug
shows the traceback on the custodian's own terminal); 130 interrupted (one line saying what
was charged).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, Literal, NoReturn

from dpsynth._version import __version__
from dpsynth.errors import DpsynthError

EXIT_OK, EXIT_POLICY, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a process Ctrl-C stopped

RELEASE_EXAMPLES = """examples:
  dpsynth release --example adult --epsilon 1 --out adult-release
  dpsynth release data.csv --epsilon 1 --delta 1e-9 --schema schema.json --out release
  dpsynth release people.csv --epsilon 3 --privacy-unit pid --max-rows-per-unit 4 --out release
  dpsynth release data.csv --epsilon 1 --method aim --workload "age,sex,income;race,income" --out release
  dpsynth release data.csv --epsilon 1 --method privbayes --param degree=3 --out release
"""

EXIT_CODES = """
exit codes:
  0  success
  1  a release or audit failed its policy
  2  bad input or a refused budget (one line on stderr, never a private value)
  3  internal error (no details printed; --debug shows the traceback)
  130  interrupted (one line: what was charged, and whether the release is complete)
"""

LEDGER_EXAMPLES = """examples:
  dpsynth ledger show
  dpsynth ledger cap data.csv --epsilon 5
  dpsynth ledger cap --dataset hospital-2026 --epsilon 5
  dpsynth ledger export --format csv --out history.csv
  dpsynth ledger export --dataset hospital-2026 --json
  dpsynth ledger reservations
  dpsynth ledger resolve ID
"""

AUDIT_EXAMPLES = """examples:
  dpsynth audit --real train.csv --holdout control.csv --synthetic synth.csv --out audit
  dpsynth audit --real train.csv --holdout control.csv --synthetic synth.csv --schema schema.json \\
      --level thorough --epsilon 1 --out audit
the holdout must be real rows the generator never saw; exit 1 when the policy FAILs
"""

SCHEMA_EXAMPLES = """examples:
  dpsynth schema infer data.csv --out schema.json          (not DP: review before use)
  dpsynth schema infer data.csv --dp --epsilon 0.1 --out schema.json
  dpsynth schema export schema.json --format sdv --out metadata.json   (SDV metadata: kinds only)
"""


def _add_header_arguments(parser: argparse.ArgumentParser) -> None:
    """--names and --confirm-header: how a CSV's column names are known (public metadata)."""
    parser.add_argument("--names", type=_names, help="column names, comma-separated, for a CSV without a header row")
    parser.add_argument("--confirm-header", action="store_true",
                        help="the first row is the header even though it looks like a record (numbers)")


def _add_csv_arguments(parser: argparse.ArgumentParser) -> None:
    """--sep and --encoding: how a CSV's text is split and decoded (both found when not given)."""
    parser.add_argument("--sep", type=_separator,
                        help="a CSV's field separator, one character ('\\t' for a tab; default: the one of "
                             ", ; tab | the header holds most)")
    parser.add_argument("--encoding",
                        help="a CSV's text encoding, e.g. latin-1 (default: its byte-order mark's, else UTF-8)")


def _separator(text: str) -> str:
    """--sep: one character, or the two characters '\\t' for a tab (hard to type in a shell)."""
    if text == "\\t":
        return "\t"
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"a separator is one character (e.g. ';', or '\\t' for a tab); got {text!r}")
    return text


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError("column names must be non-empty, separated by commas")
    return names


def _header(args: argparse.Namespace) -> bool | Literal["confirmed"]:
    """read_table's ``header`` from --names / --confirm-header."""
    if args.names is not None:
        return False
    return "confirmed" if args.confirm_header else True


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1; got {text}")
    return value


def _one_line(error: BaseException) -> str:
    """An error and its notes (what it left behind) as one line."""
    return " ".join("; ".join([str(error), *getattr(error, "__notes__", ())]).split())


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a seed must be a non-negative integer")
    return value


def _workload(text: str) -> int | list[list[str]]:
    """--workload: a degree ("3"), column sets ("age,sex;race,income") or a JSON list of lists."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise argparse.ArgumentTypeError(f"not a valid JSON list ({error.msg})") from None
        if not value or not isinstance(value, list) or not all(
            isinstance(entry, list) and all(isinstance(name, str) for name in entry) for entry in value
        ):
            raise argparse.ArgumentTypeError("a JSON workload must be a non-empty list of lists of column names")
        return value
    sets = [[name.strip() for name in part.split(",") if name.strip()] for part in text.split(";")]
    sets = [entry for entry in sets if entry]
    if not sets:
        raise argparse.ArgumentTypeError("give a degree (3) or column sets such as 'age,sex;race,income'")
    return sets


def _param(text: str) -> tuple[str, object]:
    """--param NAME=VALUE: VALUE is read as JSON where it parses (3, 0.5, true, [..]), else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return name.strip(), value


def _method_params(method: str, pairs: Sequence[tuple[str, object]], workload: object | None) -> dict[str, object]:
    """The parameters of ``method`` from --param and --workload, refusing a name given twice.

    The workload goes to the method itself (aim) or to its backbone (hybrid).
    """
    from dpsynth.generators import parameters

    params: dict[str, object] = {}
    for name, value in pairs:
        if name in params:
            raise DpsynthError(f"--param {name} is given more than once")
        params[name] = value
    if workload is None:
        return params
    if "workload" in parameters(method):
        target = params
    elif "backbone_params" in parameters(method):
        backbone = params.get("backbone_params") or {}
        if not isinstance(backbone, dict):
            raise DpsynthError("--param backbone_params must be a JSON object, e.g. '{\"max_model_size\": 40}'")
        target = params["backbone_params"] = dict(backbone)
    else:
        raise DpsynthError(f"--workload applies to methods that take a workload (aim, hybrid); {method!r} does not")
    if "workload" in target:
        raise DpsynthError("give the workload either as --workload or as --param, not both")
    target["workload"] = workload
    return params


def _takes_workload(method: str) -> bool:
    from dpsynth.generators import parameters

    return bool({"workload", "backbone_params"} & set(parameters(method)))


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and negative numbers in any notation read as values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse reads "-1e-9" and "-inf" as options (its number pattern has no exponent and
        # no infinity); then "--delta -1e-9" fails as a missing argument instead of as a negative delta.
        self._negative_number_matcher = re.compile(r"^-((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)$", re.I)

    def error(self, message: str) -> NoReturn:
        """One line on stderr and exit 2, not the 13-line usage (``--help`` shows that)."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from dpsynth.data.write import FORMATS

    parser = _Parser(prog="dpsynth", description=__doc__.splitlines()[0], epilog=EXIT_CODES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dpsynth {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    loudness.add_argument("-q", "--quiet", action="store_true", help="no progress bars and no warnings, errors only")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of internal errors (they may quote private data)")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser(
        "release",
        help="turn a private CSV into a DP synthetic CSV and its release record",
        epilog=RELEASE_EXAMPLES + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    release.add_argument("data", nargs="?", help="private data file: CSV with a header row, Parquet, Arrow or Excel")
    release.add_argument("--example", choices=["adult"], help="use a public example shipped with dpsynth")
    release.add_argument("--epsilon", type=float, required=True, help="total epsilon of the release")
    release.add_argument("--delta", type=float, default=1e-9, help="total delta (default 1e-9)")
    release.add_argument("--out", required=True, help="new folder to write the release into")
    release.add_argument("--schema", help="public schema: dpsynth JSON/YAML, an mbi domain file, or a "
                         "kinds-only file ({\"dpsynth_kinds\": 1, \"columns\": {\"age\": \"integer\"}}, "
                         "or SDV metadata JSON)")
    release.add_argument("--schema-public", action="store_true",
                         help="state that a schema drafted by 'schema infer' (not DP) is public knowledge")
    release.add_argument("--dataset", help="name of the dataset in the ledger (its cap follows the name)")
    _add_header_arguments(release)
    _add_csv_arguments(release)
    release.add_argument("--format", choices=list(FORMATS),
                         help="format of the synthetic file (default: the input file's)")
    release.add_argument("--method", default="mst", help="generator (default mst)")
    release.add_argument("--workload", type=_workload,
                         help="AIM's workload: a degree (default 3) or column sets, e.g. 'age,sex;race,income'")
    release.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                         help="a generator parameter, e.g. max_model_size=40 (repeatable)")
    release.add_argument("--rows", type=_positive_int, help="synthetic rows (default: a DP estimate)")
    release.add_argument("--privacy-unit", help="column naming the person whose privacy is protected")
    release.add_argument("--max-rows-per-unit", type=_positive_int, default=1,
                         help="rows kept per person (default 1); sensitivities scale with it")
    release.add_argument("--allocation", help="budget split, e.g. domain=0.1,marginal=0.9")
    release.add_argument("--binning", choices=["uniform", "quantile"], default="uniform",
                         help="numeric bins when the schema is discovered under DP (default uniform)")
    release.add_argument("--engine", choices=["numpy", "duckdb", "spark"], default="numpy",
                         help="where the rows are counted: numpy (in memory, default), duckdb (an embedded "
                         "database) or spark (Spark's usual settings name the cluster); same counts, so the "
                         "same seed gives the same release")
    release.add_argument("--seed", type=_seed, help="seed the noise (reproducible: NOT for publication)")
    release.add_argument("--ledger", help="budget ledger file (default $DPSYNTH_LEDGER or "
                         "$XDG_DATA_HOME/dpsynth/ledger.sqlite)")
    release.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    release.add_argument("--json", action="store_true", help="print the release record as JSON")
    release.add_argument("--audit", choices=["quick", "standard", "thorough", "off"], default="standard",
                         help="attack the release and certify it (default standard; exit 1 on FAIL)")
    release.add_argument("--policy", help="audit policy file (JSON/YAML; default: the shipped policy)")
    release.add_argument("--holdout-share", type=_share, default=0.1,
                         help="each record's chance to be held out as the audit's control sample (default 0.1)")
    release.set_defaults(handler=_release)

    audit = commands.add_parser(
        "audit",
        help="attack synthetic data made by any tool and write a certificate",
        epilog=AUDIT_EXAMPLES + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--real", required=True, help="data file of the real rows the generator was trained on")
    audit.add_argument("--holdout", required=True, help="file of real rows the generator never saw (control)")
    audit.add_argument("--synthetic", required=True, help="file of the synthetic rows to audit")
    audit.add_argument("--schema", help="schema file (default: inferred from the real rows, not DP)")
    audit.add_argument("--out", required=True, help="new folder for certificate.json and certificate.html")
    audit.add_argument("--level", choices=["quick", "standard", "thorough"], default="standard",
                       help="how hard to attack (default standard)")
    audit.add_argument("--policy", help="policy file (JSON/YAML; default: the shipped policy)")
    audit.add_argument("--epsilon", type=float, help="the epsilon the producing tool claims, checked not verified")
    audit.add_argument("--seed", type=_seed, help="seed the attacks' random choices (reproducible audits)")
    audit.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    audit.add_argument("--json", action="store_true", help="print the certificate as JSON")
    audit.set_defaults(handler=_audit)

    schema = commands.add_parser("schema", help="write a schema file for a dataset")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    infer = schema_commands.add_parser(
        "infer",
        help="infer a schema to review (or discover it under DP with --dp)",
        epilog=SCHEMA_EXAMPLES + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    infer.add_argument("data", help="data file: CSV with a header row, Parquet, Arrow or Excel")
    infer.add_argument("--out", required=True, help="schema file to write (.json or .yaml)")
    infer.add_argument("--dp", action="store_true", help="discover bounds and categories under DP")
    infer.add_argument("--epsilon", type=float, help="epsilon for --dp")
    infer.add_argument("--delta", type=float, default=1e-9, help="delta for --dp (default 1e-9)")
    infer.add_argument("--ledger", help="budget ledger file charged by --dp")
    infer.add_argument("--dataset", help="name of the dataset in the ledger, for --dp")
    _add_header_arguments(infer)
    _add_csv_arguments(infer)
    infer.add_argument("--seed", type=_seed, help="seed the noise (NOT for publication)")
    infer.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    infer.add_argument("--json", action="store_true", help="print the written path and provenance as JSON")
    infer.set_defaults(handler=_schema_infer)
    export = schema_commands.add_parser(
        "export",
        help="write a schema in another tool's format (SDV metadata JSON: kinds only)",
        epilog=SCHEMA_EXAMPLES + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("schema", help="schema file (dpsynth JSON/YAML, or an mbi domain file)")
    export.add_argument("--format", choices=["sdv"], default="sdv", help="format to write (default sdv)")
    export.add_argument("--out", required=True, help="file to write (.json)")
    export.set_defaults(handler=_schema_export)

    ledger = commands.add_parser(
        "ledger", help="privacy spent per dataset, lifetime caps, and the budget history",
        epilog=LEDGER_EXAMPLES + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    show = ledger_commands.add_parser("show", help="spend and cap of every dataset in the ledger")
    show.add_argument("--ledger", help="ledger file (default as for release)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_ledger_show)
    cap = ledger_commands.add_parser(
        "cap", help="set a dataset's lifetime cap",
        epilog="examples:\n  dpsynth ledger cap data.csv --epsilon 5\n"
               "  dpsynth ledger cap --dataset hospital-2026 --epsilon 5\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cap.add_argument("data", nargs="?", help="the dataset, read exactly as the release reads it")
    cap.add_argument("--dataset", metavar="NAME",
                     help="instead of DATA: the dataset's name, which releases give with --dataset")
    cap.add_argument("--epsilon", type=float, required=True, help="lifetime epsilon cap")
    cap.add_argument("--delta", type=float, help="lifetime delta cap (optional)")
    cap.add_argument("--ledger", help="ledger file (default as for release)")
    cap.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    cap.add_argument("--json", action="store_true", help="print the dataset's key and cap as JSON")
    cap.set_defaults(handler=_ledger_cap)
    export = ledger_commands.add_parser(
        "export", help="budget history of each dataset, one row per release, as CSV or JSON",
        epilog=LEDGER_EXAMPLES + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="output format (default csv)")
    export.add_argument("--json", action="store_true", help="same as --format json")
    export.add_argument("--dataset", metavar="KEY",
                        help="only this dataset (its key or name, or enough of its key to be unique)")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument("--ledger", help="ledger file (default as for release)")
    export.set_defaults(handler=_ledger_export)
    reservations = ledger_commands.add_parser(
        "reservations", help="open reservations: releases that were reserved and never committed",
        epilog="a release that died or hung leaves one, counted against its cap until resolved\n"
               + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reservations.add_argument("--ledger", help="ledger file (default as for release)")
    reservations.add_argument("--json", action="store_true", help="print JSON")
    reservations.set_defaults(handler=_ledger_reservations)
    resolve = ledger_commands.add_parser(
        "resolve", help="close an open reservation: kept as spent, or deleted with --nothing-left",
        epilog="examples:\n  dpsynth ledger resolve ID\n  dpsynth ledger resolve ID --nothing-left\n"
               "--nothing-left gives the budget back: only when nothing from that release left its process\n"
               + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    resolve.add_argument("release_id", metavar="ID", help="the release id, as 'ledger reservations' lists it")
    resolve.add_argument("--nothing-left", action="store_true",
                         help="state that no output of that release left its process: delete the reservation")
    resolve.add_argument("--ledger", help="ledger file (default as for release)")
    resolve.add_argument("--json", action="store_true", help="print the outcome as JSON")
    resolve.set_defaults(handler=_ledger_resolve)
    _add_compare(commands)
    return parser


def _release(args: argparse.Namespace) -> int:
    from dpsynth.datasets import example_path
    from dpsynth.progress import Progress
    from dpsynth.workflows.release import progress_steps, release

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
        method_params=_method_params(args.method, args.param, args.workload),
        n_rows=args.rows,
        privacy_unit=args.privacy_unit,
        max_rows_per_unit=args.max_rows_per_unit,
        allocation=args.allocation,
        random_state=args.seed,
        ledger=args.ledger,
        dataset=args.dataset,
        schema_public=args.schema_public,
        na_values=na_values,
        header=_header(args),
        names=args.names,
        sep=args.sep,
        encoding=args.encoding,
        format=args.format,
        binning=args.binning,
        progress=Progress(progress_steps(args.audit), enabled=False if args.quiet else None),
        audit=args.audit,
        policy=args.policy,
        holdout_share=args.holdout_share,
        n_jobs=os.cpu_count() or 1,
        engine=args.engine,
    )
    if args.json:
        print(json.dumps(result.record, indent=2))
    else:
        print(result.record["statement"])
        print(f"wrote {result.synthetic_file} ({result.n_synthetic} rows) and release.json")
        if result.certificate is not None:
            _print_verdict(result.certificate, result.out)
        elif args.audit != "off":
            print("audit: skipped (too few records were held out; raise --holdout-share or see the warning)")
    return EXIT_POLICY if result.verdict == "FAIL" else EXIT_OK


def _print_verdict(certificate: dict, out: object) -> None:
    from dpsynth.certificate.document import ANNEX_SUFFIX

    print(f"audit: {certificate['verdict']} ({'; '.join(certificate['reasons'])})")
    print(f"certificate: {out}/certificate.html (attack results are not part of the DP guarantee)")
    print(f"custodian annex: {out}{ANNEX_SUFFIX}/ holds exact shares of the real data: never share that folder")


def _audit(args: argparse.Namespace) -> int:
    from dpsynth.workflows.audit import audit

    outcome = audit(
        args.real,
        args.holdout,
        args.synthetic,
        out=args.out,
        schema=args.schema,
        level=args.level,
        policy=args.policy,
        stated_epsilon=args.epsilon,
        na_values=args.na_values,
        random_state=args.seed,
    )
    if args.json:
        print(json.dumps(outcome.certificate, indent=2))
    else:
        _print_verdict(outcome.certificate, outcome.out)
    return EXIT_POLICY if outcome.verdict == "FAIL" else EXIT_OK


def _schema_infer(args: argparse.Namespace) -> int:
    from dpsynth.workflows.schema import write_schema

    path = write_schema(
        args.data,
        out=args.out,
        dp=args.dp,
        epsilon=args.epsilon,
        delta=args.delta,
        ledger=args.ledger,
        dataset=args.dataset,
        random_state=args.seed,
        na_values=args.na_values,
        header=_header(args),
        names=args.names,
        sep=args.sep,
        encoding=args.encoding,
    )
    if args.json:
        print(json.dumps({"schema": str(path), "provenance": "dp" if args.dp else "inferred-not-dp"}))
    else:
        print(f"wrote {path}")
    return EXIT_OK


def _schema_export(args: argparse.Namespace) -> int:
    from dpsynth.workflows.schema import export_schema

    print(f"wrote {export_schema(args.schema, out=args.out, format=args.format)}")
    return EXIT_OK


def _ledger_show(args: argparse.Namespace) -> int:
    from dpsynth.privacy.ledger import short_key
    from dpsynth.workflows import ledger

    rows = ledger.show(args.ledger)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("the ledger records no release and no cap yet")
    for row in rows:
        cap = "no cap" if row["epsilon_cap"] is None else f"cap epsilon={row['epsilon_cap']:g}"
        labels = ", ".join(row["labels"]) or "unlabelled"
        still_open = f" ({row['open']} open)" if row["open"] else ""
        print(f"{short_key(row['dataset'])}  {labels}: {row['releases']} release(s){still_open}, "
              f"epsilon={row['epsilon_spent']:.4g}, delta={row['delta_spent']:.3g}, {cap}")
    return EXIT_OK


def _ledger_cap(args: argparse.Namespace) -> int:
    from dpsynth.privacy.ledger import short_key
    from dpsynth.workflows import ledger

    key = ledger.cap(args.data, args.epsilon, args.delta, args.ledger, args.na_values, dataset=args.dataset)
    if args.json:
        print(json.dumps({"dataset": key, "epsilon_cap": args.epsilon, "delta_cap": args.delta}))
    else:
        print(f"cap set for {short_key(key)}: epsilon={args.epsilon:g}")
    return EXIT_OK


def _ledger_export(args: argparse.Namespace) -> int:
    from dpsynth.workflows import ledger

    text = ledger.export(args.ledger, dataset=args.dataset, format="json" if args.json else args.format)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _age(seconds: float) -> str:
    """A reservation's age in its two largest units: "3d 2h", "5h 12m", "4m 10s"."""
    seconds = max(0, int(seconds))
    days, hours, minutes = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds % 60}s"


def _ledger_reservations(args: argparse.Namespace) -> int:
    from dpsynth.privacy.ledger import short_key
    from dpsynth.workflows import ledger

    rows = ledger.reservations(args.ledger)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no open reservation")
    for row in rows:
        label = row["dataset_label"] or "unlabelled"
        print(f"{row['id']}  {short_key(row['dataset'])}  {label}: epsilon={row['epsilon']:.4g}, "
              f"delta={row['delta']:.3g}, open for {_age(row['age_seconds'])}")
    return EXIT_OK


def _ledger_resolve(args: argparse.Namespace) -> int:
    from dpsynth.privacy.ledger import short_key
    from dpsynth.workflows import ledger

    outcome = ledger.resolve(args.release_id, spent=not args.nothing_left, ledger=args.ledger)
    if args.json:
        print(json.dumps(outcome))
    elif args.nothing_left:
        print(f"release {args.release_id} on {short_key(outcome['dataset'])} deleted; its budget is back")
    else:
        print(f"release {args.release_id} on {short_key(outcome['dataset'])} kept as spent")
    return EXIT_OK


COMPARE_EXAMPLES = """examples:
  dpsynth compare data.csv --methods mst,aim,privbayes --epsilons 0.3,1,3,10 --out sweep
  dpsynth compare data.csv --schema schema.json --target income --seeds 3 --audit standard --out sweep
  dpsynth compare data.csv --methods mst --epsilons 1 --out sweep --json

Every run spends its own budget and none is charged to the ledger: the comparison is an
exploration that must not be published. Rerun with the same --out to resume a stopped sweep.
"""


def _add_compare(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare methods across epsilons: fidelity, attacks, time (exploration, not for publication)",
        epilog=COMPARE_EXAMPLES + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_argument("data", help="private data file: CSV with a header row, Parquet, Arrow or Excel")
    compare.add_argument("--methods", default="mst,aim,privbayes",
                         help="comma-separated generators (default mst,aim,privbayes)")
    compare.add_argument("--epsilons", default="0.3,1,3,10",
                         help="comma-separated epsilons (default 0.3,1,3,10)")
    compare.add_argument("--workload", type=_workload,
                         help="workload of the methods that take one (aim): a degree or column sets")
    compare.add_argument("--param", type=_param, action="append", default=[], metavar="METHOD.NAME=VALUE",
                         help="a parameter of one method, e.g. aim.max_model_size=40 (repeatable)")
    compare.add_argument("--seeds", type=_positive_int, default=1, help="runs per method and epsilon (default 1)")
    compare.add_argument("--out", required=True, help="folder for results; an existing sweep there is resumed")
    compare.add_argument("--delta", type=float, default=1e-9, help="delta of every run (default 1e-9)")
    compare.add_argument("--schema", help="public schema file (default: discovered once under DP)")
    compare.add_argument("--target", help="column to predict for train-on-synthetic, test-on-real AUC")
    compare.add_argument("--test-fraction", type=float, default=0.2,
                         help="share of rows held out for testing (default 0.2)")
    compare.add_argument("--audit", choices=["off", "quick", "standard", "thorough"], default="quick",
                         help="attack suite level per run (default quick)")
    compare.add_argument("--jobs", type=_positive_int, help="parallel worker processes (default: CPU count)")
    compare.add_argument("--seed", type=_seed, help="seed the split and the noise (reproducible)")
    compare.add_argument("--retry-failed", action="store_true", help="when resuming, run failed runs again")
    compare.add_argument("--na-values", action="append", default=[], help="extra string read as missing")
    compare.add_argument("--json", action="store_true", help="print the results (and the warning) as JSON")
    compare.set_defaults(handler=_compare)


def _sweep_params(methods: str, pairs: Sequence[tuple[str, object]], workload: object | None) -> dict:
    """Per-method parameters from --param METHOD.NAME=VALUE and --workload (for methods taking one)."""
    grouped: dict[str, list[tuple[str, object]]] = {}
    for key, value in pairs:
        method, dot, name = key.partition(".")
        if not dot or not method or not name:
            raise DpsynthError(f"compare's --param takes METHOD.NAME=VALUE, e.g. aim.max_model_size=40; got {key!r}")
        grouped.setdefault(method, []).append((name, value))
    names = [name.strip() for name in methods.split(",") if name.strip()]
    takers = [name for name in names if workload is not None and _takes_workload(name)]
    if workload is not None and not takers:
        raise DpsynthError(f"--workload applies to methods that take a workload (aim, hybrid); none of {names} does")
    return {
        method: _method_params(method, grouped.get(method, []), workload if method in takers else None)
        for method in dict.fromkeys([*grouped, *takers])
    }


def _compare(args: argparse.Namespace) -> int:
    from dpsynth.workflows.compare import JSON_FILE, WARNING, compare

    table = compare(
        args.data,
        methods=args.methods,
        epsilons=args.epsilons,
        seeds=args.seeds,
        out=args.out,
        delta=args.delta,
        schema=args.schema,
        test_fraction=args.test_fraction,
        method_params=_sweep_params(args.methods, args.param, args.workload),
        target=args.target,
        audit=args.audit,
        n_jobs=args.jobs,
        random_state=args.seed,
        na_values=args.na_values,
        retry_failed=args.retry_failed,
        progress=not args.quiet,
    )
    if args.json:
        with open(f"{args.out}/{JSON_FILE}", encoding="utf-8") as file:
            print(file.read(), end="")
        return EXIT_OK
    failed = int((table["status"] != "ok").sum())
    print(WARNING)
    print(f"{len(table)} run(s), {failed} failed, {table.attrs['skipped']} skipped as already finished")
    shown = [c for c in ("epsilon_spent", "tvd_2way", "tstr_auc", "membership_auc", "fit_seconds") if c in table]
    summary = table[["method", "epsilon", "seed", "status", *shown]]
    print(summary.to_string(index=False, float_format="{:.4g}".format))
    print(f"wrote {args.out}/results.csv, results.json and report.html")
    return EXIT_OK


def _configure_logging(level: int) -> None:
    """Log lines on stderr, written above a progress bar when one is drawn."""
    from dpsynth.progress import BarSafeHandler

    handler = BarSafeHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Ctrl-C, wherever it lands once this runs (parsing loads most of the
    library), ends in one line saying what the command left: the notes of the steps it stopped
    (a release's reservation given back or kept, its folder complete), else nothing charged."""
    try:
        return _run(argv)
    except KeyboardInterrupt as interrupt:
        left = getattr(interrupt, "__notes__", None) or ["nothing was charged to the ledger"]
        print("dpsynth: interrupted; " + " ".join("; ".join(left).split()), file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING)
    logging.getLogger("absl").setLevel(logging.ERROR)
    try:
        return args.handler(args)
    except (DpsynthError, OSError) as error:
        print(f"dpsynth: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        if args.debug:
            raise
        print(
            f"dpsynth: internal error ({type(error).__name__}); the release was not completed. "
            "Re-run with --debug to see the traceback (it may show private values).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
