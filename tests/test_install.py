"""The package installed as a wheel into a fresh venv works in a user's project folder.

Issue 14, "What it must show" 1: build a wheel, install it into a new venv, and from a
working directory holding the user's own ``models/``, ``analysis/``, ``experiments/`` and
``analysis.py`` run the README's Python example and ``lcne run split-mnist --iterations 5
--seeds 42``; nothing is installed under the bare names ``models``, ``analysis`` or
``experiments``.

The fresh venv gets the third-party dependencies (torch, xarray, ...) of the venv running
the tests through a ``.pth`` file holding that venv's site-packages path. A path line of a
``.pth`` file is appended to ``sys.path``, but ``.pth`` files inside the appended directory
are not processed, so the editable install of lcne there (``__editable__.lcne-*.pth`` and
its import hook) stays invisible: ``import lcne`` finds the wheel's copy, which
:func:`test_lcne_is_the_wheel_copy` checks. Nothing is downloaded.
"""
from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("lcne", "models", "analysis", "experiments")
BARE_NAMES = ("models", "analysis", "experiments")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None,
    reason="building a wheel needs pip and setuptools in the test environment (pip wheel --no-build-isolation)",
)


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        NUMEXPR_NUM_THREADS="1",
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(tmp / "mplconfig"),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def _run(cmd, cwd, env, timeout, what):
    try:
        proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-3:]
        pytest.fail(f"{what}: still running after {timeout} s; last output:\n" + "\n".join(last), pytrace=False)
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


class Installed:
    wheel: Path
    python: Path
    lcne: Path
    site: Path
    env: dict
    user_dir: Path
    neutral_dir: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("install")
    inst = Installed()
    inst.env = env = _env(tmp)

    # 1. the wheel. Built from a copy of the repository's sources, so the build (build/,
    #    lcne.egg-info) does not write into the checkout that others are working in.
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in SOURCE_FOLDERS:
        shutil.copytree(REPO / folder, src / folder, ignore=ignore)
    dist = tmp / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, src],
        tmp, env, 180, "pip wheel",
    )
    wheels = sorted(dist.glob("lcne-*.whl"))
    assert len(wheels) == 1, wheels
    inst.wheel = wheels[0]

    # 2. a fresh venv with the wheel installed. pip runs from this environment (--python),
    #    before the .pth below exists, so it sees an empty venv and touches nothing else.
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env, 120, "python -m venv")
    inst.python = venv / "bin" / "python"
    inst.lcne = venv / "bin" / "lcne"
    _run(
        [sys.executable, "-m", "pip", "--python", inst.python, "install", "--no-deps", "--no-index", "-q", inst.wheel],
        tmp, env, 180, "pip install wheel",
    )
    site = _run(
        [inst.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env, 60, "purelib"
    ).stdout.strip()
    inst.site = Path(site)

    # 3. the third-party dependencies of this environment, as plain path lines
    outer = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (inst.site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in outer))

    # 4. a user's project folder (the layout of issue 14): packages models/ and
    #    experiments/ of their own, a module analysis.py, and an analysis/ folder (notebook
    #    outputs, scripts; no __init__.py) beside it. Run from here, '' / the script folder
    #    comes first on sys.path, so the user's names shadow any top-level module of the
    #    same name; import analysis gives analysis.py (a module beats a folder without
    #    __init__.py).
    user = inst.user_dir = tmp / "project"
    (user / "models").mkdir(parents=True)
    (user / "models" / "__init__.py").write_text('OWNER = "user"\nGainMLP = "the user\'s own GainMLP"\n')
    (user / "experiments").mkdir()
    (user / "experiments" / "__init__.py").write_text('OWNER = "user"\n')
    (user / "analysis").mkdir()
    (user / "analysis" / "plot_results.py").write_text('print("a user script")\n')
    (user / "analysis.py").write_text('OWNER = "user"\n\ndef metrics(): return "the user\'s metrics"\n')
    inst.neutral_dir = tmp / "neutral"
    inst.neutral_dir.mkdir()
    return inst


def test_wheel_contents(installed):
    with zipfile.ZipFile(installed.wheel) as zf:
        names = zf.namelist()
        top_level = zf.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"lcne", next(t for t in tops if t.endswith(".dist-info"))}, sorted(tops)
    assert top_level == ["lcne"]
    for bare in BARE_NAMES:
        assert not [n for n in names if n.startswith(bare + "/") or n == bare + ".py"], bare
    for required in (
        "lcne/__init__.py",
        "lcne/spiking/__init__.py",
        "lcne/models/__init__.py",
        "lcne/analysis/__init__.py",
        "lcne/experiments/__init__.py",
        "lcne/experiments/cli.py",
        "lcne/experiments/datasets/mnist5k.npz",
    ):
        assert required in names, required
    for pattern in ("lcne/analysis/reference_data/*.csv", "lcne/analysis/reference_data/*.yaml", "lcne/experiments/studies/*.yaml"):
        assert fnmatch.filter(names, pattern), pattern
    # every module of the source folders is in the wheel
    sources = {
        ("lcne" if folder == "lcne" else f"lcne/{folder}") + "/" + p.relative_to(REPO / folder).as_posix()
        for folder in SOURCE_FOLDERS
        for p in (REPO / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sources - set(names) == set()


def test_nothing_installed_under_bare_names(installed):
    code = (
        "import importlib.util\n"
        f"for name in {BARE_NAMES!r}:\n"
        "    print(name, importlib.util.find_spec(name))\n"
    )
    out = _run([installed.python, "-c", code], installed.neutral_dir, installed.env, 60, "find_spec").stdout
    assert out.split("\n")[:3] == [f"{name} None" for name in BARE_NAMES], out
    leftovers = [p.name for p in installed.site.iterdir() if p.name.split(".")[0] in BARE_NAMES]
    assert leftovers == []


def test_lcne_is_the_wheel_copy(installed):
    """In the user's folder: the user's own models/analysis/experiments are what the bare
    names give, lcne and its layers come from the wheel, torch from the outer environment,
    and the editable install's import hook is not active."""
    code = (
        "import sys, importlib\n"
        "import models, analysis, experiments\n"
        "print(models.OWNER, analysis.OWNER, experiments.OWNER, analysis.__file__)\n"
        "import lcne, lcne.models, lcne.analysis.metrics, lcne.experiments.runner, torch\n"
        "print(lcne.__file__)\nprint(lcne.models.__file__)\nprint(lcne.experiments.runner.__file__)\n"
        "print(torch.__file__)\n"
        "print(any('editable' in type(f).__module__ or 'editable' in repr(f) for f in sys.meta_path))\n"
        "print(any('editable' in name for name in sys.modules))\n"
    )
    lines = _run([installed.python, "-c", code], installed.user_dir, installed.env, 120, "imports").stdout.splitlines()
    assert lines[0] == f"user user user {installed.user_dir / 'analysis.py'}"
    site = str(installed.site) + os.sep
    for path in lines[1:4]:
        assert path.startswith(site), (path, site)
    assert lines[1] == str(installed.site / "lcne" / "__init__.py")
    assert not lines[4].startswith(site) and lines[4].endswith("torch/__init__.py")
    assert lines[5:7] == ["False", "False"], "the editable install of lcne is visible in the fresh venv"


def test_lcne_run_in_a_user_folder(installed, tmp_path):
    out = tmp_path / "OUT"
    proc = _run(
        [installed.lcne, "run", "split-mnist", "--iterations", "5", "--seeds", "42", "--out", out],
        installed.user_dir, installed.env, 120, "lcne run split-mnist --iterations 5 --seeds 42",
    )
    assert (out / "split-mnist.nc").is_file(), proc.stdout[-2000:]


def _readme_example() -> str:
    """The first ```python block after "From Python:" in README.md (read now: it changes)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "From Python:" in text, "README.md has no 'From Python:' section"
    match = re.search(r"^```python[ \t]*\n(.*?)^```", text.split("From Python:", 1)[1], re.S | re.M)
    assert match, "no ```python block after 'From Python:' in README.md"
    return match.group(1)


def test_readme_python_example_in_a_user_folder(installed):
    script = installed.user_dir / "readme_example.py"
    script.write_text(_readme_example())
    _run([installed.python, script.name], installed.user_dir, installed.env, 90, "the README's Python example")
