"""The package stands on its own: the wheel carries the bundled scenarios, and nothing in the
repository points at files outside it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Strings that name development material kept outside the repository.  Text may speak of a
# "shared" thing or of random "seeds"; these patterns only match paths.  The folder names are
# put together from parts so that this file does not itself contain the paths it forbids.
_DEV = "sha" + "red"
_DIGEST = "seed" + "-digest"
_SEEDS = "se" + "eds"
OUTSIDE = re.compile(
    rf"(?<![\w.-])(?:\.\./)*{_DEV}/|{_DIGEST}|(?<![\w-]){_SEEDS}/\d|/work/{_DEV}|\bspec(?:ification)? section \d"
)

# Files this check reads: the package, the scenarios and the documentation.
CHECKED_SUFFIXES = (".py", ".md", ".yaml", ".yml")


def _checked_files() -> list[Path]:
    files: list[Path] = [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    for folder in ("docs", "scenarios", "safsim"):
        files += [p for p in sorted((ROOT / folder).rglob("*")) if p.suffix in CHECKED_SUFFIXES and p.is_file()]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def outside_references() -> dict[str, list[str]]:
    """File (relative to the repository) -> its lines that name a path outside the repository."""
    found: dict[str, list[str]] = {}
    for path in _checked_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("safsim/scenarios/"):
            continue  # the same files as scenarios/, through the link
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OUTSIDE.search(line):
                found.setdefault(rel, []).append(f"{n}: {line.strip()}")
    return found


def test_the_pattern_matches_paths_not_words() -> None:
    """The check catches paths outside the repository and leaves ordinary words alone."""
    for text in (
        f"see {_DEV}/stylized-facts.md",
        f"../{_DEV}/x",
        f"the {_DIGEST}",
        f"{_SEEDS}/000_ab.txt",
        "spec section 4",
    ):
        assert OUTSIDE.search(text), text
    for text in ("a shared understanding", "child seeds/replicates", "seed digest of runs", "safsim/shared_x"):
        assert not OUTSIDE.search(text), text


def test_nothing_points_outside_the_repository() -> None:
    """No file of the package, scenarios or docs cites development material outside the repository."""
    found = outside_references()
    assert found == {}, "files naming paths outside the repository:\n" + "\n".join(
        f"  {f}:{ln}" for f, lines in found.items() for ln in lines
    )


def test_the_package_folder_links_to_the_bundled_scenarios() -> None:
    """safsim/scenarios is the repository's scenarios/ (a link), so the wheel can carry them."""
    link = ROOT / "safsim" / "scenarios"
    assert link.is_dir()
    assert link.resolve() == (ROOT / "scenarios").resolve()


@pytest.mark.slow
def test_the_wheel_carries_every_bundled_scenario(tmp_path: Path) -> None:
    """A wheel built from the source tree holds safsim/scenarios/<name>.yaml for each scenario."""
    src = tmp_path / "src"
    # Build from a copy, so the build leaves nothing behind in the checkout.
    shutil.copytree(
        ROOT,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "results", "__pycache__"),
    )
    dist = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "-w", str(dist), "--no-deps", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = dist.glob("safsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"safsim/scenarios/{p.name}" for p in (ROOT / "scenarios").glob("*.yaml")}
    expected |= {"safsim/data/targets.yaml", "safsim/data/calibration.yaml"}  # calibration data
    assert expected and expected <= names, sorted(expected - names)
    assert "safsim/cli.py" in names and "safsim/util.py" in names
