"""Where ``cpp_standalone`` builds the spiking population, and the lock that serialises builds.

Brian2's ``cpp_standalone`` device writes and compiles a C++ project into a folder. A
predictable folder in the shared temp dir could be planted by another user, so the
default is a per-user cache folder with 0700 permissions, used only when it is a real
directory owned by this user and closed to others; a fresh ``tempfile.mkdtemp`` otherwise.
Processes that share a folder take turns through a lock file that is opened without
following symlinks.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile

__all__ = ["directory_lock", "private_build_dir", "safe_private_dir"]


def safe_private_dir(path: str) -> bool:
    """True when ``path`` is a real directory (not a symlink) owned by this user, mode 0700."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode)
            and (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not (st.st_mode & 0o077))


def private_build_dir() -> str:
    """The default ``cpp_standalone`` project folder: a per-user cache folder with 0700
    permissions (``$XDG_CACHE_HOME/lcne/spiking_standalone``, default ``~/.cache``), never
    a predictable folder in the shared temp dir. A cache folder that is a symlink, owned
    by someone else or open to others is not used; a fresh ``tempfile.mkdtemp`` (0700)
    is used instead."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "lcne", "spiking_standalone")
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return tempfile.mkdtemp(prefix="lcne_spiking_")
    return path if safe_private_dir(path) else tempfile.mkdtemp(prefix="lcne_spiking_")


@contextlib.contextmanager
def directory_lock(folder: str):
    """Hold an exclusive lock on ``folder/.lcne.lock`` (POSIX; no lock elsewhere).

    The lock file is opened without following symlinks and without truncation, so a
    planted symlink is refused instead of clobbering the file it points to."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    path = os.path.join(folder, ".lcne.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot open the build lock {path} (a symlink?): {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
