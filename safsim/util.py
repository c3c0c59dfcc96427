"""Small helpers shared by the writers of results and validation reports.

Objects:
    git_revision(): (commit hash, has uncommitted changes) of the checkout holding the package.
    write_directory(out_dir, write, own=..., existing=...): write a set of files into a directory,
        all or nothing.
    own_files(out_dir, own): the files in a directory that safsim wrote (by name pattern).
    is_nonempty_dir(path): whether ``path`` is a directory holding anything.
    unique_path(base): ``base``, or ``base-2``, ``base-3``, ... whichever does not exist yet.
    DirectoryNotEmptyError: raised when a directory holding files is not to be written into.

Atomicity of ``write_directory``: everything is first written into a fresh temporary directory
beside ``out_dir`` (same parent, so moves are renames on one file system).  If ``out_dir`` does
not exist, or is an empty directory, the temporary directory is renamed onto it in one step.
Otherwise (``existing="merge"`` or ``"replace"``) the new files are moved in one by one, each
move an atomic rename, with the last file (the manifest) moved last, so a directory whose
manifest is present holds a complete set; ``"replace"`` first deletes the files of earlier
safsim runs (those matching ``own``), and only after every new file has been written, so a
failed run loses nothing.  On any failure, including KeyboardInterrupt, the temporary directory
is removed and the exception re-raised.

This module imports nothing from safsim, so any module may use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

__all__ = [
    "DirectoryNotEmptyError",
    "git_revision",
    "is_nonempty_dir",
    "own_files",
    "unique_path",
    "write_directory",
]

Existing = Literal["refuse", "merge", "replace"]


class DirectoryNotEmptyError(FileExistsError):
    """The target directory already holds files and the writer was told not to mix runs."""


def git_revision() -> tuple[str | None, bool | None]:
    """(commit hash, has uncommitted changes) of the checkout holding the package, if any.

    Best effort: any failure (no git, not a checkout, timeout) gives ``(None, None)``.
    """
    pkg_dir = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        head = subprocess.run(
            ["git", "-C", str(pkg_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
        if head.returncode != 0:
            return None, None
        revision = head.stdout.strip() or None
        status = subprocess.run(
            ["git", "-C", str(pkg_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return revision, dirty
    except (OSError, subprocess.SubprocessError, ValueError):
        return None, None


def is_nonempty_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a directory holding at least one entry."""
    p = Path(path)
    return p.is_dir() and any(p.iterdir())


def own_files(out_dir: str | os.PathLike[str], own: Iterable[str]) -> list[Path]:
    """The files under ``out_dir`` matching any of the relative glob patterns ``own``, sorted."""
    root = Path(out_dir)
    if not root.is_dir():
        return []
    found: set[Path] = set()
    for pattern in own:
        found.update(p for p in root.glob(pattern) if p.is_file() or p.is_symlink())
    return sorted(found)


def unique_path(base: str | os.PathLike[str]) -> Path:
    """``base`` if nothing has that name, else the first free ``base-2``, ``base-3``, ...

    The name is reserved by creating it as an empty directory (an atomic step), so two
    processes started in the same second never get the same folder.  ``write_directory``
    treats an empty directory like a missing one.
    """
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    candidate, i = base, 1
    while True:
        try:
            candidate.mkdir()
        except FileExistsError:
            i += 1
            candidate = base.with_name(f"{base.name}-{i}")
            continue
        return candidate


def write_directory(
    out_dir: str | os.PathLike[str],
    write: Callable[[Path], Sequence[str]],
    *,
    own: Sequence[str] = (),
    existing: Existing = "refuse",
) -> list[str]:
    """Write a set of files into ``out_dir``, all or nothing (see the module docstring).

    Args:
        out_dir: target directory; created (with parents) if missing.
        write: called with an empty temporary directory; writes the files into it and returns
            their names relative to it, the one that marks a complete set (the manifest) last.
        own: relative glob patterns (e.g. ``"plots/*.png"``) of the files safsim writes here;
            ``existing="replace"`` deletes the matching files of an earlier run.
        existing: what to do when ``out_dir`` already holds files: ``"refuse"`` raises
            DirectoryNotEmptyError before anything is written, ``"merge"`` overwrites files of
            the same names and keeps the rest, ``"replace"`` deletes the files matching ``own``
            first (other files are kept).

    Returns:
        The relative names returned by ``write``.

    Raises:
        NotADirectoryError: ``out_dir`` exists and is not a directory.
        DirectoryNotEmptyError: ``out_dir`` holds files and ``existing`` is ``"refuse"``.
        OSError: the files could not be written; nothing is left behind.
    """
    out = Path(out_dir)
    _check_target(out, existing)
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        relative = list(write(tmp))
        _check_target(out, existing)  # again: another process may have written meanwhile
        if existing == "replace":
            _remove_own(out, own)
        _move_into_place(tmp, out, relative)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # empty leftovers when files were moved one by one
    return relative


def _check_target(out: Path, existing: Existing) -> None:
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a directory")
    if existing == "refuse" and is_nonempty_dir(out):
        raise DirectoryNotEmptyError(f"{out} is not empty")


def _remove_own(out: Path, own: Sequence[str]) -> None:
    files = own_files(out, own)
    for path in files:
        path.unlink()
    for folder in sorted({p.parent for p in files}, key=lambda p: len(p.parts), reverse=True):
        if folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _move_into_place(tmp: Path, out: Path, relative: Sequence[str]) -> None:
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    for rel in relative:  # the manifest is last: its presence marks a complete set
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, target)
