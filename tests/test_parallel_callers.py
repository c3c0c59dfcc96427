"""Parallel runs from any caller (safsim.experiments.replicates: _mp_context, ParallelStartError).

``run_replicates(..., workers=2)`` is run, in real subprocesses, from a script without an
``if __name__ == "__main__":`` guard, from standard input and from a Jupyter kernel, and must
give the table of ``workers=1`` without running the caller's code again in the workers.  The
context chooser is also tested with other platforms' start methods.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import subprocess
import sys
import types
from multiprocessing import forkserver

import pytest

from safsim import load_scenario, run_replicates
from safsim.experiments import replicates
from safsim.experiments.replicates import ParallelStartError, _mp_context

# The caller's code: 4 one-year runs on 2 workers.  BODY is printed each time the code runs,
# so a worker that re-ran the caller's script would print it again.
CALLER = """\
import hashlib
from safsim import load_scenario, run_replicates
print("BODY", flush=True)
res = run_replicates(load_scenario("baseline", ["horizon_steps=4"]), n=4, seed=1, workers=2)
print("CHECKSUM", hashlib.sha256(res.runs.to_csv(index=False).encode()).hexdigest(), res.workers, flush=True)
"""

# Pretend only fork and spawn exist (as if there were no fork server), so that spawn is used.
SPAWN_ONLY = "import multiprocessing\nmultiprocessing.get_all_start_methods = lambda: ['fork', 'spawn']\n"


@pytest.fixture(scope="module")
def serial_checksum() -> str:
    """The checksum CALLER prints, computed in-process with workers=1."""
    res = run_replicates(load_scenario("baseline", ["horizon_steps=4"]), n=4, seed=1, workers=1)
    return hashlib.sha256(res.runs.to_csv(index=False).encode()).hexdigest()


def _check_output(stdout: str, expected: str) -> None:
    lines = stdout.splitlines()
    assert lines.count("BODY") == 1, stdout
    assert f"CHECKSUM {expected} 2" in lines, stdout


def test_guardless_script(tmp_path, serial_checksum):
    """A script with no main guard runs workers=2 to exit 0, with the workers=1 table, and its
    body runs once (the workers do not import the caller's __main__)."""
    script = tmp_path / "guardless.py"
    script.write_text(CALLER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_output(done.stdout, serial_checksum)


def test_standard_input(tmp_path, serial_checksum):
    """The same code piped to ``python -`` exits 0 with the workers=1 table, its body run once."""
    done = subprocess.run(
        [sys.executable, "-"], input=CALLER, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    _check_output(done.stdout, serial_checksum)


@pytest.mark.slow
def test_jupyter_kernel(serial_checksum):
    """The same code in a Jupyter kernel running this interpreter gives the workers=1 table."""
    nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint('PREFIX', sys.prefix)"), nbformat.v4.new_code_cell(CALLER)]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    out = ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout") for cell in nb.cells]
    assert f"PREFIX {sys.prefix}" in out[0].splitlines(), out[0]
    _check_output(out[1], serial_checksum)


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_spawn_only_unimportable_caller_gets_one_line_error(tmp_path, how):
    """Where only spawn is available, a guardless script or standard input gets one
    ParallelStartError line (no worker tracebacks, no BrokenProcessPool) and runs nothing."""
    code = SPAWN_ONLY + CALLER
    if how == "script":
        script = tmp_path / "guardless.py"
        script.write_text(code)
        cmd, stdin = [sys.executable, str(script)], None
    else:
        cmd, stdin = [sys.executable, "-"], code
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("safsim.experiments.replicates.ParallelStartError: "), done.stderr[-3000:]
    assert "workers=1" in last and "__main__" in last
    assert done.stderr.count("Traceback") == 1 and "BrokenProcessPool" not in done.stderr
    assert "CHECKSUM" not in done.stdout


def test_chooser_uses_fork_server_without_main_on_linux():
    """On Linux with a fork server, the chooser gives a forkserver context whose server
    preloads Mesa but neither __main__ nor safsim (edited safsim code reaches new pools)."""
    ctx = _mp_context(platform="linux", start_methods=["fork", "spawn", "forkserver"])
    assert ctx.get_start_method() == "forkserver"
    assert ctx.Process is replicates._NoMainForkServerProcess
    preload = forkserver._forkserver._preload_modules
    assert "mesa" in preload and not any(m == "__main__" or m.startswith("safsim") for m in preload)


def _fake_main(monkeypatch, tmp_path, source: str) -> types.ModuleType:
    """Run ``source`` as the ``__main__`` script tmp_path/caller.py; return the module."""
    path = tmp_path / "caller.py"
    path.write_text(source)
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "__main__", main)
    exec(compile(source, str(path), "exec"), vars(main))
    return main


CHOOSE = "from safsim.experiments.replicates import _mp_context\nctx = _mp_context(platform={p!r}, start_methods=['spawn'])\n"


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_chooser_spawn_guardless_script_raises(monkeypatch, tmp_path, platform):
    """Spawn only, called from the top level of a script without a main guard: a one-line
    ParallelStartError (a RuntimeError) that names the script and says what to do."""
    with pytest.raises(ParallelStartError) as info:
        _fake_main(monkeypatch, tmp_path, CHOOSE.format(p=platform))
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "\n" not in msg and "caller.py" in msg and "line 2" in msg
    assert "if __name__ == '__main__':" in msg and "workers=1" in msg


def test_chooser_spawn_guarded_script_and_interactive_are_fine(monkeypatch, tmp_path):
    """Spawn only: a call under a main guard, a call after the script body has run, and a caller
    with no main file (interactive, Jupyter) all get the spawn context."""
    guarded = "if __name__ == '__main__':\n" + "".join(
        "    " + line + "\n" for line in CHOOSE.format(p="win32").splitlines()
    )
    main = _fake_main(monkeypatch, tmp_path, guarded)
    assert main.ctx.get_start_method() == "spawn"
    # The script body has finished (as with python -i): nothing of it is on the stack.
    assert _mp_context(platform="win32", start_methods=["spawn"]).get_start_method() == "spawn"
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    assert _mp_context(platform="darwin", start_methods=["spawn", "fork", "forkserver"]) is mp.get_context("spawn")


def test_chooser_spawn_standard_input_raises(monkeypatch):
    """Spawn only, __main__ read from standard input: a one-line ParallelStartError."""
    main = types.ModuleType("__main__")
    main.__file__ = "<stdin>"
    monkeypatch.setitem(sys.modules, "__main__", main)
    with pytest.raises(ParallelStartError, match="standard input") as info:
        _mp_context(platform="win32", start_methods=["spawn"])
    assert "\n" not in str(info.value)
