"""Resolve a source's 'path' option to the files it reads, in reading order."""

from __future__ import annotations

import glob
from pathlib import Path

from workbench.errors import SourceError

_GLOB_CHARACTERS = frozenset("*?[")


def resolve_paths(path: str, base_dir: Path | None = None) -> list[Path]:
    """Return the files named by ``path``: a file, a directory or a glob pattern.

    A relative path resolves against ``base_dir`` (default: the current
    directory). A directory gives its files, without subdirectories and hidden
    files; a directory and a glob both give their files sorted by name.
    Raises SourceError when nothing matches.
    """
    base = Path.cwd() if base_dir is None else base_dir
    expanded = Path(path).expanduser()
    full = expanded if expanded.is_absolute() else base / expanded
    if _GLOB_CHARACTERS & set(path):
        matches = sorted(Path(name) for name in glob.glob(str(full), recursive=True))
        files = [match for match in matches if match.is_file()]
        if not files:
            message = (
                f"no files match '{path}' (pattern {str(full)!r}): check the pattern "
                "or set 'path' to an existing file or directory"
            )
            raise SourceError(message)
        return files
    if full.is_dir():
        files = sorted(
            child for child in full.iterdir() if child.is_file() and not child.name.startswith(".")
        )
        if not files:
            message = f"directory '{path}' ({full}) contains no files: add files or change 'path'"
            raise SourceError(message)
        return files
    if full.is_file():
        return [full]
    message = (
        f"file not found: '{path}' (resolved to '{full}'); check the path, "
        f"which is relative to '{base}' unless absolute"
    )
    raise SourceError(message)
