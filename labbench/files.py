"""How labbench opens files it did not just create: never through a symbolic link, only regular files,
never blocking on a pipe; and every OS error turned into one line that names the path and what to do.

A run folder may be shared, copied or tampered with: a ``metrics.jsonl`` that is a link would send
the run's writes elsewhere, a FIFO would hang the reader forever.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from labbench.errors import StorageError

#: errno -> (short reason for a run's status, what to do)
_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("disk full", "free some space (or choose a folder on another disk) and run the command again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space within your quota and run the command again"),
    errno.EROFS: ("read-only file system", "choose a folder you can write to (e.g. --runs-dir or --out)"),
    errno.EACCES: ("permission denied", "check the folder's permissions or choose another folder"),
    errno.EPERM: ("permission denied", "check the folder's permissions or choose another folder"),
    errno.ENOTDIR: ("not a folder", "a file has a name that must be a folder; rename it or choose another path"),
    errno.EEXIST: ("already exists", "remove it or choose another path"),
    errno.EISDIR: ("is a folder", "a folder has the name of a file labbench writes; rename it"),
    errno.ELOOP: ("a symbolic link", "a run folder's files must live in it; replace the link by the real "
                  "file or folder (cp -L) and run again"),
    errno.ENXIO: ("not a regular file", "replace it by a regular file (or remove it) and run again"),
    errno.EFBIG: ("file too large", "the file system refuses a file this large; choose another folder"),
    errno.EIO: ("input/output error", "the disk reported an error; check it, then run the command again"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENAMETOOLONG: ("name too long", "choose a shorter path"),
}


def storage_error(path: str | Path, err: OSError) -> StorageError:
    """``err`` (raised while touching ``path``) as one readable :class:`StorageError`."""
    if isinstance(err, StorageError):
        return err
    reason, advice = _REASONS.get(err.errno, (err.strerror or type(err).__name__, "check the path and run again"))
    return StorageError(path, reason, advice, err.errno)


def wrong_kind(path: str | Path, st: os.stat_result, folder: bool = False) -> StorageError:
    """The error for ``path`` being a link, or not the folder / regular file it must be."""
    if stat.S_ISLNK(st.st_mode):
        code = errno.ELOOP
    elif folder:
        code = errno.ENOTDIR
    else:
        code = errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.ENXIO
    return storage_error(path, OSError(code, os.strerror(code)))


def open_regular(path: str | Path, flags: int = os.O_RDONLY, mode: int = 0o666, follow_links: bool = False) -> int:
    """A file descriptor of ``path``, which must be a regular file (created with ``mode`` minus the umask
    when ``flags`` has O_CREAT); a link (unless ``follow_links``), a FIFO, a device or a folder is
    refused with a StorageError.

    O_NOFOLLOW refuses a link in the last component; O_NONBLOCK keeps a FIFO from blocking the open,
    and is cleared again once the descriptor is known to be a regular file.
    """
    nofollow = 0 if follow_links else os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | nofollow | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK):  # EMLINK: FreeBSD's answer to O_NOFOLLOW on a link
            raise wrong_kind(path, os.lstat(path)) from None
        raise storage_error(path, err) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise wrong_kind(path, st)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | Path) -> bytes:
    """The bytes of the regular file ``path``; see :func:`open_regular`."""
    fd = open_regular(path)
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as err:
        raise storage_error(path, err) from None
    finally:
        os.close(fd)


def check_entry(path: str | Path, folder: bool) -> None:
    """Refuse ``path`` when it exists but is a link, or not a folder (``folder``) / regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise storage_error(path, err) from None
    if stat.S_ISLNK(st.st_mode) or not (stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)):
        raise wrong_kind(path, st, folder)


def make_folder(path: str | Path) -> Path:
    """``path`` as a folder, made with its parents where missing (a link to a folder is fine: the person
    chose where it points); a file in the way, or an OS error, is a StorageError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise storage_error(path, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise storage_error(path, err) from None
    return path


def umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux), else set and reset."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # A brief restrictive mask: another thread creating a file meanwhile gets fewer rights, never more.
    old = os.umask(0o077)
    os.umask(old)
    return old


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 minus the umask (0o644 under the usual 022)."""
    return 0o666 & ~umask()


def new_folder_mode() -> int:
    return 0o777 & ~umask()
