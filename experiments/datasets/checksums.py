"""sha256 digests of data files, so that results name the exact bytes they were trained on.

Two files with the same IDX headers (MNIST and Fashion-MNIST, for instance) can only be
told apart by their content; the loaders record ``{path: sha256}`` of every file they read
(:attr:`lcne.experiments.datasets.mnist.ImageSet.files`), and ``lcne run`` stores it in the
results (attribute ``data_files``).
"""
from __future__ import annotations

import hashlib
from os import PathLike
from pathlib import Path
from typing import Dict, Tuple, Union

from lcne.experiments.errors import DataError

__all__ = ["file_sha256", "bytes_sha256"]

_CACHE: Dict[Tuple[str, int, int, int], str] = {}


def bytes_sha256(data: bytes) -> str:
    """sha256 of ``data`` as 64 lower-case hex digits."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Union[str, PathLike]) -> str:
    """sha256 of the bytes of ``path`` as stored (a ``.gz`` file is hashed compressed),
    64 lower-case hex digits.

    Read in 1 MiB blocks (about 0.1 s for the 26 MB Fashion-MNIST training images). Within
    one process a digest is reused while the file keeps its size, modification time and
    inode. An unreadable file gives a one-line :class:`DataError`.
    """
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
        if key not in _CACHE:
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            _CACHE[key] = h.hexdigest()
    except OSError as exc:
        raise DataError(f"cannot read {p} to record its sha256: {exc.strerror or exc}") from None
    return _CACHE[key]
