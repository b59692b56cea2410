"""`python -m grader.datasets import-mnist SRC DEST` / `download-mnist DEST`.

`camp data import-mnist` runs this module, so the web side never imports the grader.
"""

from __future__ import annotations

import argparse
import sys

from grader.datasets.mnist import DatasetError, download_mnist, import_mnist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.datasets")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import-mnist", help="check and store the four official MNIST files")
    imp.add_argument("src")
    imp.add_argument("dest")
    down = commands.add_parser("download-mnist", help="fetch MNIST with Paddle's downloader (online)")
    down.add_argument("dest")
    args = parser.parse_args(argv)
    try:
        if args.command == "import-mnist":
            counts = import_mnist(args.src, args.dest)
        else:
            counts = download_mnist(args.dest)
    except (DatasetError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST stored in {args.dest}: {counts['train']} training and {counts['test']} test digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
