"""The documentation builds with warnings as errors (``sphinx-build -W -b html docs OUT``)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None, reason="sphinx is not installed")
def test_docs_build_without_warnings(tmp_path):
    if importlib.util.find_spec("myst_parser") is None:
        pytest.fail("sphinx is installed but myst-parser is not: install the 'test' extra")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path / "html")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, "docs build failed:\n" + proc.stderr[-6000:]
    html = tmp_path / "html"
    for page in ("index", "installation", "quickstart", "analysis_guide", "biological_reference", "api/analysis"):
        assert (html / f"{page}.html").is_file(), page
    # the architecture page shows the import graph computed at build time
    assert "Layer graph (importer" in (html / "architecture.html").read_text()
    # the reference page lists every shipped reference file
    from lcne.analysis.biology import list_references

    text = (html / "biological_reference.html").read_text()
    missing = [name for name in list_references() if name not in text]
    assert not missing, f"reference files missing from the docs: {missing}"
