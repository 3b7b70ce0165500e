from pathlib import Path

import pytest

from workbench.errors import SourceError
from workbench.sources.paths import resolve_paths


def make(tmp_path: Path, *names: str) -> None:
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def test_single_file_relative_to_base(tmp_path: Path) -> None:
    make(tmp_path, "data/a.csv")
    assert resolve_paths("data/a.csv", tmp_path) == [tmp_path / "data/a.csv"]


def test_directory_files_sorted_without_hidden(tmp_path: Path) -> None:
    make(tmp_path, "logs/b.csv", "logs/a.csv", "logs/.hidden", "logs/sub/c.csv")
    assert resolve_paths("logs", tmp_path) == [tmp_path / "logs/a.csv", tmp_path / "logs/b.csv"]


def test_glob_sorted(tmp_path: Path) -> None:
    make(tmp_path, "x/2.json", "x/1.json", "x/3.csv")
    assert resolve_paths("x/*.json", tmp_path) == [tmp_path / "x/1.json", tmp_path / "x/2.json"]


def test_recursive_glob(tmp_path: Path) -> None:
    make(tmp_path, "a/b/c.csv", "a/d.csv")
    assert resolve_paths("a/**/*.csv", tmp_path) == [tmp_path / "a/b/c.csv", tmp_path / "a/d.csv"]


def test_absolute_path_ignores_base(tmp_path: Path) -> None:
    make(tmp_path, "a.csv")
    assert resolve_paths(str(tmp_path / "a.csv"), Path("/nonexistent")) == [tmp_path / "a.csv"]


def test_missing_file_message(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"file not found: 'nope.csv' \(resolved to") as info:
        resolve_paths("nope.csv", tmp_path)
    assert str(tmp_path) in str(info.value)


def test_glob_without_match(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no files match 'x/\*\.csv'"):
        resolve_paths("x/*.csv", tmp_path)


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="contains no files"):
        resolve_paths("empty", tmp_path)
