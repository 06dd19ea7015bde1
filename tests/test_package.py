"""Package-level promises: every logger under ``lcne.``, package data found through the package."""
import ast
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("lcne", "models", "analysis", "experiments")


def _get_logger_calls():
    for folder in LAYERS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "getLogger"):
                    yield path.relative_to(ROOT), node


def test_every_logger_lives_under_lcne():
    """``getLogger(__name__)`` is ``lcne.<...>`` once installed; a literal name must start with ``lcne``."""
    bad, seen = [], 0
    for rel, call in _get_logger_calls():
        seen += 1
        arg = call.args[0] if call.args else None
        ok = (isinstance(arg, ast.Name) and arg.id == "__name__") or (
            isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            and (arg.value == "lcne" or arg.value.startswith("lcne.")))
        if not ok:
            bad.append(f"{rel}:{call.lineno}")
    assert seen > 10 and not bad, bad


def test_loggers_of_the_layers_are_children_of_lcne():
    import logging

    import lcne.experiments.runner
    import lcne.models.resnet

    for module in (lcne.experiments.runner, lcne.models.resnet):
        logger = next(v for v in vars(module).values() if isinstance(v, logging.Logger))
        assert logger.name == module.__name__ and logger.name.startswith("lcne.")


def test_package_data_is_found_through_the_package():
    assert resources.files("lcne.experiments.datasets").joinpath("mnist5k.npz").is_file()
    assert any(p.name.endswith(".yaml") for p in resources.files("lcne.experiments.studies").iterdir())
    assert resources.files("lcne.analysis").joinpath("reference_data").is_dir()
