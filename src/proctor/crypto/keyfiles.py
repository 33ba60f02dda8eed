"""Private key files: a 0700 key directory, PEM files that are 0600 from the first byte, and the
registration of a public half in the store (idempotent across racing processes).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.errors import ConfigError

if TYPE_CHECKING:
    from proctor.store.base import KeyRecord, Store

__all__ = [
    "ensure_keydir",
    "load_private",
    "pkcs8_pem",
    "read_private_pem",
    "register_public_key",
    "write_private_pem",
]


def ensure_keydir(keydir: str | Path) -> Path:
    """Create the key directory with mode 0700, or check that an existing one is private."""
    path = Path(keydir)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError as exc:
        raise ConfigError(f"cannot create key directory `{path}`: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"key directory `{path}` is not a directory")
    if st.st_mode & 0o077:
        raise ConfigError(
            f"key directory `{path}` is accessible by other users (mode {stat.S_IMODE(st.st_mode):o}):"
            f" run `chmod 700 {path}`"
        )
    return path


def write_private_pem(path: Path, pem: bytes) -> None:
    """Write a private key file that is 0600 from creation: temp file, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)  # umask can only remove bits; make the mode exact
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write key file `{path}`: {exc.strerror}") from None


def read_private_pem(path: Path) -> bytes:
    """Read a key file, refusing symlinks, non-regular files and group/world access."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(f"key file `{path}` is missing") from None
    except OSError as exc:
        raise ConfigError(f"cannot open key file `{path}`: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"key file `{path}` is not a regular file")
        if st.st_mode & 0o077:
            raise ConfigError(
                f"key file `{path}` is readable by other users (mode {stat.S_IMODE(st.st_mode):o}):"
                f" run `chmod 600 {path}`"
            )
        if st.st_uid != os.geteuid():
            raise ConfigError(f"key file `{path}` is owned by another user (uid {st.st_uid})")
        if st.st_size > 64 * 1024:
            raise ConfigError(f"key file `{path}` is corrupt: too large")
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_private(path: Path) -> Any:
    """Read and parse an unencrypted PEM private key file (checked as :func:`read_private_pem` does)."""
    data = read_private_pem(path)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"key file `{path}` is corrupt: not an unencrypted PEM private key") from None


def pkcs8_pem(key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey) -> bytes:
    """The unencrypted PKCS#8 PEM form of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def register_public_key(store: Store, record: KeyRecord) -> None:
    """Put a public key in the store unless it is already there (another process may race us)."""
    if any(k.kid == record.kid for k in store.list_keys(record.use)):
        return
    try:
        store.put_key(record)
    except Exception:
        if not any(k.kid == record.kid for k in store.list_keys(record.use)):
            raise
