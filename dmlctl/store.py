"""dmlctl's small JSON state files: read with a default, written atomically."""

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def load(path: Path, default: Any = None) -> Any:
    """The JSON in PATH, or DEFAULT when the file is missing or unreadable as JSON."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default


def save(path: Path, data: Any, *, mode: int = 0o644) -> None:
    """Write DATA to PATH as JSON so readers see the old file or the new one, never half."""
    write(path, json.dumps(data, indent=2) + "\n", mode=mode)


def write(path: Path, content: str | bytes, *, mode: int = 0o644) -> None:
    """Write CONTENT to PATH atomically. The file is 0600 from its first byte (mkstemp) until
    it gets MODE, so a secret written with mode 0o600 is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode() if isinstance(content, str) else content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
