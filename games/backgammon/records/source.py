"""Reading a record file's bytes into text: encodings, empty and binary files."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .model import RecordError

# control characters that never occur in a text record (tab, newlines and form feed aside)
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13))


def read_text(path) -> tuple[str, Optional[RecordError]]:
    """The file's text (utf-8, else latin-1), or "" and a RecordError saying why there is none."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return "", RecordError(name, 0, "", f"cannot read the file ({exc.strerror or exc})", "unreadable")
    if not data.strip():
        return "", RecordError(name, 1, "", "empty file: no match record in it", "empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return "", RecordError(name, line, "", "binary file (a NUL byte), not a text match record", "binary file")
    sample = data[:65536]
    controls = sum(sample.count(bytes([c])) for c in _CONTROL)
    if controls > max(8, len(sample) // 100):
        return "", RecordError(name, 1, "", f"binary file ({controls} control bytes), not a text match record",
                               "binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n"), None
