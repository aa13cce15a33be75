"""Audit: every file labbench writes goes through ``labbench.atomic`` (temp file + ``os.replace``), so a
run stopped, closed or killed at any moment never leaves a half-written file in a run folder or export."""

from __future__ import annotations

import ast
from pathlib import Path

import labbench

PACKAGE = Path(labbench.__file__).parent
WRITERS = {"write_text", "write_bytes", "save", "savez", "savez_compressed", "open_memmap", "tofile", "dump",
           "to_csv", "export", "mkstemp"}
#: the writes that are atomic by other means, each with the reason
ALLOWED = {
    ("atomic.py", "mkstemp"): "the primitive itself",
    ("files.py", "os.open"): "open_regular itself: no link followed, regular files only",
    ("runs.py", "open_regular"): "metrics.jsonl: whole lines appended, a failed append cut back, a torn tail moved aside",
    ("runlock.py", "open_regular"): "the lock file: the holder's record rewritten in place",
    ("data/decode.py", "mkstemp"): "the decode cache: a temporary .npy moved into place with os.replace",
    ("data/decode.py", "open_memmap"): "the decode cache's temporary file",
    ("data/decode.py", "os.open"): "reserving the decode cache's temporary file's blocks",
    ("data/pack.py", "open"): "a shard: a temporary tar moved into place with os.replace once complete",
    ("data/shards.py", "os.open"): "reading a shard (O_RDONLY)",
    ("cli/__init__.py", "os.open"): "/dev/null put under stdout once the reader closed the pipe: no file is written",
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}" if isinstance(func.value, ast.Name) else func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _writes_to_a_buffer_or_atomic_file(call: ast.Call) -> bool:
    """``save(obj, f)`` / ``save(buffer)``: the target is the atomic writer's file or an in-memory buffer."""
    targets = [a.id for a in call.args if isinstance(a, ast.Name)] + [k.value.id for k in call.keywords
                                                                       if isinstance(k.value, ast.Name)]
    return any(t in ("f", "buffer") for t in targets)


def _direct_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    inside_atomic: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func).split(".")[-1].startswith("atomic_write"):
            inside_atomic.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in inside_atomic:
            continue
        name = _name(node.func)
        short = name.split(".")[-1]
        mode = next((a.value for a in node.args[1:2] if isinstance(a, ast.Constant)), "r")
        is_write = (short in WRITERS and not _writes_to_a_buffer_or_atomic_file(node)) or name == "os.open" or (
            short == "open_regular" and len(node.args) > 1) or (
            short == "open" and name != "os.open" and isinstance(mode, str) and set(mode) & set("wax+"))
        if is_write:
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    return found


def test_every_file_write_under_labbench_is_atomic():
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for hit in _direct_writes(path):
            where, call = hit.split(" ")
            key = (where.split(":")[0], call if call in ("os.open",) else call.split(".")[-1])
            if key not in ALLOWED:
                offending.append(hit)
    assert not offending, "write these through labbench.atomic: " + ", ".join(offending)


def test_the_audit_sees_a_direct_write(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("import json\ndef f(p, x):\n    p.write_text(x)\n    open(p, 'w').write(x)\n"
                   "    json.dump(x, open(p, 'a'))\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)  # names are made relative to it
    assert len(_direct_writes(bad)) == 4  # json.dump and its open count apart
