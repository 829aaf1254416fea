"""Which user scripts the user has agreed to run: a small JSON file in the user's config folder.

A script is code, so the first time a study wants to run one, the CLI (``--trust`` or a typed
"yes") and the window (a dialog) ask. The answer is remembered per file content: the store is
keyed by the file's SHA-256 and lists the paths it was trusted at, so an edited file, or the
same file somewhere else, asks again. Only "yes" is remembered. No torch, no Qt.

``$HPO_DESKTOP_CONFIG_DIR`` overrides the platform's config folder (tests set it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CONFIG_DIR_ENV = "HPO_DESKTOP_CONFIG_DIR"
TRUST_FILE = "trusted_scripts.json"
#: Lines of the script shown when asking.
HEAD_LINES = 15


def config_dir() -> Path:
    """The user's config folder for hpo-desktop (``$HPO_DESKTOP_CONFIG_DIR`` wins)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("hpo-desktop", appauthor=False))


@dataclass(frozen=True)
class ScriptIdentity:
    """A script as the trust store knows it: its absolute path and the SHA-256 of its bytes."""

    path: Path
    sha256: str

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> ScriptIdentity:
        """Hash the file now. Raises OSError when it cannot be read."""
        path = Path(path).resolve()
        return cls(path, hashlib.sha256(path.read_bytes()).hexdigest())

    def head(self, n: int = HEAD_LINES) -> str:
        """The first ``n`` lines (for the question), or a note when the file cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read the file: {exc.strerror or exc})"
        lines = text.splitlines()
        more = len(lines) - n
        shown = "\n".join(lines[:n])
        return shown + (f"\n… ({more} more line{'s' if more != 1 else ''})" if more > 0 else "")


class TrustStore:
    """``is_trusted`` / ``trust`` for :class:`ScriptIdentity`, kept in ``trusted_scripts.json``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.file = (folder or config_dir()) / TRUST_FILE

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def is_trusted(self, script: ScriptIdentity) -> bool:
        entry = self._load().get(script.sha256)
        return isinstance(entry, dict) and str(script.path) in entry.get("paths", [])

    def trust(self, script: ScriptIdentity) -> None:
        """Remember "yes" for this content at this path (written atomically)."""
        data = self._load()
        entry = data.get(script.sha256)
        if not isinstance(entry, dict):
            entry = {"paths": []}
        paths = [p for p in entry.get("paths", []) if isinstance(p, str)]
        if str(script.path) not in paths:
            paths.append(str(script.path))
        entry.update(paths=paths, trusted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        data[script.sha256] = entry
        self.file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trusted-", dir=self.file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
