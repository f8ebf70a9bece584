"""Finding what a sandboxed run may have left behind, in folders other processes are changing meanwhile."""

from __future__ import annotations

import os
from pathlib import Path


def files_named(folder: Path, name: str) -> list[Path]:
    """Every file or folder called ``name`` anywhere under ``folder``.

    ``Path.glob("**/name")`` raises FileNotFoundError when a folder disappears while it is being walked, which
    in a shared /tmp happens whenever another test's scratch is removed; a folder that vanished holds nothing.
    """
    found = []
    for root, folders, files in os.walk(folder, onerror=lambda error: None):
        found += [Path(root) / entry for entry in folders + files if entry == name]
    return found
