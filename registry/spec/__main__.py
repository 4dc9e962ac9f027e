"""``python -m registry.spec PATH [--json]``: validate a solution package directory
(or its solution.yaml) and print the problems; exit 1 if there are errors."""

from __future__ import annotations

import argparse
import json
import sys

from registry.spec.validator import validate_directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry.spec", description=__doc__)
    parser.add_argument("path", help="solution package directory or its solution.yaml")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = validate_directory(args.path)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            print(problem)
        print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
