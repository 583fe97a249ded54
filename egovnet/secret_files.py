"""Writing files that hold secrets in clear: 0600 files in 0700 directories.

A rendered config holds the TACACS key, the local admin password and the SNMPv3 keys as the
device needs them; a lab node's snmpd.conf holds the SNMPv3 keys. Written with the default
umask they were world-readable (0644 in a 0755 directory) while `.secrets/secrets.yaml`
itself is 0600. Everything that writes such a file goes through here: the renderer's output
directory (`egovnet render -o`, the topology's and the lab's `configs/`) and the lab's
per-node files.

The file is created 0600 from its first byte (never created readable and narrowed after),
under a temporary name in the same directory and renamed over the old one, so a crash never
leaves a half-written config that a later push could pick up.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

SECRET_FILE_MODE = 0o600
SECRET_DIR_MODE = 0o700


def private_directory(directory: Path, *, narrow: bool = True) -> Path:
    """`directory`, created readable by its owner only if need be. With `narrow`, an existing
    one is made so too (egovnet's own, written 0755 by an older version); without, a
    directory the user named and already had keeps its modes (say `-o .`), its secret files
    being 0600 themselves. Parents are left as the umask makes them: they hold no secret."""
    existed = directory.is_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=SECRET_DIR_MODE)
    if narrow or not existed:
        directory.chmod(SECRET_DIR_MODE)
    return directory


def write_private(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` as a 0600 file, atomically."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        descriptor = os.open(tmp, flags, SECRET_FILE_MODE)
    except FileExistsError:  # a leftover of a crash: it may have other modes
        tmp.unlink()
        descriptor = os.open(tmp, flags, SECRET_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def make_private(path: Path) -> None:
    """Narrow an existing file to 0600 (one written, identical, by an older version)."""
    if path.stat().st_mode & 0o777 != SECRET_FILE_MODE:
        path.chmod(SECRET_FILE_MODE)
