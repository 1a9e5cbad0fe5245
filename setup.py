"""setuptools plus one build step: the repository files the installed package reads at run time.

The Alembic migrations, the web client and the libsodium.js build it loads live outside
``app/`` (``migrations/``, ``web/src``, ``web/node_modules``). ``[tool.backchannel.bundled]`` in
pyproject.toml lists them, one line each: a name under ``app/bundled/`` = a path in the
repository (a file, or a directory taken whole). The code reaches them only through
``app.bundled.path(name)``, so an installed wheel needs no checkout.

- A wheel gets copies, under ``app/bundled/``.
- The sdist carries the sources at their repository paths, so a wheel built from it (what
  ``python -m build`` does) gets the same copies.
- An editable install (``make install``) gets symbolic links in ``app/bundled/`` instead, so a
  checkout serves its own files as they change; the links are made again on every install.

A source that is missing stops the build (``web/node_modules`` comes from ``make web-deps``).
"""

import os
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build

PACKAGE = Path("app", "bundled")
# Files under a bundled directory that are never shipped (bytecode caches).
SKIPPED_PARTS = frozenset({"__pycache__"})


def bundled_table() -> dict[str, str]:
    with open("pyproject.toml", "rb") as file:
        table: dict[str, str] = tomllib.load(file)["tool"]["backchannel"]["bundled"]
    return table


def bundled_files() -> Iterator[tuple[Path, Path]]:
    """Every bundled file as (path under ``app/bundled/``, path in the repository)."""
    for name, source_name in bundled_table().items():
        source = Path(source_name)
        if source.is_file():
            yield Path(name), source
        elif source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and not SKIPPED_PARTS.intersection(path.parts):
                    yield Path(name) / path.relative_to(source), path
        else:
            raise FileNotFoundError(
                f"{source_name} (bundled as {name}) is missing; "
                "web/node_modules comes from `make web-deps`"
            )


class BuildBundled(Command):
    """A ``build`` sub-command in setuptools' protocol (get_source_files feeds the sdist)."""

    description = "copy, or for an editable install link, [tool.backchannel.bundled] into app/"
    user_options: list[tuple[str, str | None, str]] = []

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self) -> None:
        if self.editable_mode:
            self._link_in_place()
            return
        for output, source in self.get_output_mapping().items():
            self.mkpath(os.path.dirname(output))
            self.copy_file(str(source), output)

    def _link_in_place(self) -> None:
        """Replace whatever an earlier install linked with links to the listed sources."""
        for entry in PACKAGE.iterdir():
            if entry.is_symlink():
                entry.unlink()
            elif entry.is_dir() and entry.name != "__pycache__":
                shutil.rmtree(entry)
        for name, source_name in bundled_table().items():
            link = PACKAGE / name
            source = Path(source_name)
            if not source.exists():
                raise FileNotFoundError(f"{source_name} (bundled as {name}) is missing")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(source, link.parent))

    def get_source_files(self) -> list[str]:
        return [str(source) for _, source in bundled_files()]

    def get_outputs(self) -> list[str]:
        return [] if self.editable_mode else list(self.get_output_mapping())

    def get_output_mapping(self) -> dict[str, str]:
        if self.editable_mode:
            return {}
        assert self.build_lib is not None
        return {
            str(Path(self.build_lib, PACKAGE, name)): str(source)
            for name, source in bundled_files()
        }


class BuildWithBundled(build):
    sub_commands = [*build.sub_commands, ("build_bundled", None)]


setup(cmdclass={"build": BuildWithBundled, "build_bundled": BuildBundled})
