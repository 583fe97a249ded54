"""Rendering: a pure function from the model to configuration text, and writing it to disk.

`render_network` returns {host: text} and touches nothing; `write_configs` puts the texts in a
directory. Output is byte-identical from run to run (no timestamps, stable ordering), so a
rendered directory under version control shows only real changes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from egovnet import platforms
from egovnet.model import Network
from egovnet.perf import bulk_build
from egovnet.render.view import NodeView, iter_views
from egovnet.secret_files import (
    SECRET_FILE_MODE,
    make_private,
    private_directory,
    write_private,
)
from egovnet.secrets import SharedSecrets

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
MANIFEST = ".egovnet-render.json"
"""Lists the files the last render wrote, so the next one removes only its own stale files."""


def environment() -> jinja2.Environment:
    """The Jinja2 environment all platform templates share."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - device configs, not HTML
    )


class Renderer:
    """Compiled templates, one per platform, compiled on first use and reused for every node."""

    def __init__(self, env: jinja2.Environment | None = None) -> None:
        self._env = env or environment()
        self._templates: dict[str, jinja2.Template] = {}

    def template(self, platform: str) -> jinja2.Template:
        if platform not in self._templates:
            directory = platforms.platform(platform).templates
            self._templates[platform] = self._env.get_template(f"{directory}/node.j2")
        return self._templates[platform]

    def render(self, view: NodeView) -> str:
        return self.template(view.platform).render(v=view, node=view.node)


def render_network(
    network: Network, secrets: SharedSecrets, platform: str | None = None
) -> dict[str, str]:
    """Every node's configuration, keyed by host name, in inventory order."""
    renderer = Renderer()
    with bulk_build():
        return {
            view.node.name: renderer.render(view) for view in iter_views(network, secrets, platform)
        }


def config_file_name(host: str) -> str:
    """One file per host."""
    return f"{host}.cfg"


@dataclass(frozen=True)
class WriteReport:
    """What `write_configs` did, for the CLI summary and `--json`."""

    directory: str
    written: int
    unchanged: int
    removed: list[str]


def write_configs(
    configs: dict[str, str],
    directory: Path,
    progress: Callable[[int], None] | None = None,
) -> WriteReport:
    """Write one file per host; skip files already identical; remove stale ones we wrote before.

    Configs hold secrets in clear (the AAA key, the local admin password, SNMPv3 keys):
    each is written 0600, in a directory made 0700; one of an earlier render (it has our
    manifest) is narrowed to 0700 and its files to 0600, a directory the user already had
    keeps its own modes. A crash never leaves a half-written config that a later push could
    pick up: a new directory is filled under a hidden name beside it and renamed into place
    whole; in an existing one every changed file is written to a temporary name and renamed
    (`egovnet.secret_files`).
    """
    if not directory.exists():
        report = _write_new_directory(configs, directory, progress)
        if report is not None:
            return report
    manifest = directory / MANIFEST
    private_directory(directory, narrow=manifest.exists())
    previous: set[str] = set()
    if manifest.exists():
        try:
            previous = set(json.loads(manifest.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            previous = set()
    present = {entry.name for entry in os.scandir(directory)}  # one listing, not a stat a file
    written = unchanged = 0
    names: list[str] = []
    for host, text in configs.items():
        name = config_file_name(host)
        names.append(name)
        path = directory / name
        data = text.encode("utf-8")
        if name in present and path.read_bytes() == data:
            make_private(path)
            unchanged += 1
        else:
            write_private(path, data)
            written += 1
        if progress:
            progress(1)
    stale = sorted(previous - set(names))
    for name in stale:
        (directory / name).unlink(missing_ok=True)
    manifest.write_text(_manifest_text(names), encoding="utf-8")
    return WriteReport(str(directory), written, unchanged, stale)


def _manifest_text(names: list[str]) -> str:
    return json.dumps(sorted(names)) + "\n"


def _write_new_directory(
    configs: dict[str, str], directory: Path, progress: Callable[[int], None] | None
) -> WriteReport | None:
    """Fill a hidden 0700 directory beside `directory` with plain 0600 files and rename it into
    place: one create and write per file, no temporary name and rename each. None when
    `directory` appeared meanwhile (the caller then writes into it file by file)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))  # 0700
    try:
        folder = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
        try:
            names = []
            for host, text in configs.items():
                name = config_file_name(host)
                names.append(name)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                handle = os.open(name, flags, SECRET_FILE_MODE, dir_fd=folder)
                try:
                    data = memoryview(text.encode("utf-8"))
                    while data:  # one write for a small file; a loop in case it is short
                        data = data[os.write(handle, data) :]
                finally:
                    os.close(handle)
                if progress:
                    progress(1)
        finally:
            os.close(folder)
        (staging / MANIFEST).write_text(_manifest_text(names), encoding="utf-8")
        try:
            staging.rename(directory)
        except OSError:  # made by someone else meanwhile: not ours to replace
            shutil.rmtree(staging)
            return None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WriteReport(str(directory), len(names), 0, [])
