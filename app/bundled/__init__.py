"""Files from outside ``app/`` that the installed package reads at run time.

``[tool.backchannel.bundled]`` in pyproject.toml names them; the build copies them here
(setup.py), and an editable install links them here. Code reaches them only through
``path()``, never through the repository's layout, so a wheel installed anywhere works.
"""

from importlib.resources import files
from pathlib import Path

__all__ = ["BundledFileMissing", "path"]


class BundledFileMissing(RuntimeError):
    """A listed file is not in the installed package (an editable install older than the table)."""


def path(name: str) -> Path:
    """The file or directory bundled as ``name`` (its key in ``[tool.backchannel.bundled]``).

    Raises ``BundledFileMissing`` when it is not installed."""
    root = files(__name__)
    if not isinstance(root, Path):
        raise BundledFileMissing("Backchannel must be installed as files, not in an archive")
    target = root / name
    if not target.exists():
        raise BundledFileMissing(
            f"{name} is not installed in {root}: reinstall the package "
            "(`make install` in a checkout, after `make web-deps`)"
        )
    return target
