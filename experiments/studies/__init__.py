"""Shipped experiment definitions (sweep specs); see ``docs/fair_study.md``."""
from importlib import resources
from pathlib import Path

__all__ = ["study_path"]


def study_path(name: str) -> Path:
    """Path of a shipped spec, e.g. ``study_path("fair_mnist")``."""
    return Path(str(resources.files(__name__).joinpath(f"{name}.yaml")))
