"""Copy real datasets shipped in Python packages into datasets/cache/.

The glucose monitor readings come from the ``bokeh_sampledata`` package
(public-domain data, BSD-3-licensed package): one reading every five minutes
from 2010-03-24 to 2010-10-10, in local time without a zone, with columns
``isig``, ``datetime`` and ``glucose``.

Usage: ``python datasets/sampledata.py glucose`` (``make demo`` runs it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources
from pathlib import Path

CACHE = Path(__file__).resolve().parent / "cache"

#: Name on the command line -> (package, file inside its data folder, copy name).
DATASETS = {
    "glucose": ("bokeh_sampledata", "_data/CGM.csv.gz", "glucose.csv.gz"),
    "stocks": ("bokeh_sampledata", "_data/stocks.csv.gz", "stocks.csv.gz"),
}


def fetch(name: str) -> Path:
    """Copy one dataset into the cache (once) and return its path."""
    package, inner, target_name = DATASETS[name]
    target = CACHE / target_name
    if target.exists():
        return target
    try:
        source = resources.files(package).joinpath(inner)
    except ModuleNotFoundError:
        raise SystemExit(
            f"dataset {name!r} needs the Python package {package!r}: pip install '{package}'"
        ) from None
    CACHE.mkdir(parents=True, exist_ok=True)
    with resources.as_file(source) as path:
        shutil.copyfile(path, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(DATASETS), help="datasets to copy")
    arguments = parser.parse_args(argv)
    for name in arguments.names:
        print(f"{name}: {fetch(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
