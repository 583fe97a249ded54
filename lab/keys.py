"""The lab's SSH key: logins to lab routers use it, and it never sits in a repository.

Real networks keep their credentials in their own vault; a lab makes one key on first use,
under `$XDG_CONFIG_HOME/egovnet/lab/` (or `$EGOVNET_LAB_KEY`), mode 0600.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def lab_key() -> Path:
    """The lab's SSH key (private half; `.pub` beside it), outside any repository."""
    configured = os.environ.get("EGOVNET_LAB_KEY")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "egovnet" / "lab" / "id_ed25519"


def ensure_lab_key() -> str:
    """The public lab key, made on first use (ed25519, no passphrase, mode 0600: a lab's)."""
    key = lab_key()
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "egovnet-lab", "-f", str(key)],
            check=True,
        )
    key.chmod(0o600)
    return key.with_suffix(".pub").read_text(encoding="utf-8")
