"""The secret store: upstream secrets (API keys, database admin credentials) encrypted at rest.

Each value is encrypted with AES-256-GCM under the workspace **secrets key**, with a fresh 96-bit nonce
and the secret's name bound in as associated data, so a ciphertext copied to another name's row fails
to decrypt instead of yielding the other secret. The key comes from ``PROCTOR_SECRETS_KEY`` (base64url
of 32 bytes; wins) or from ``<workspace>/keys/secrets.key`` (32 random bytes, mode 0600, created on first
use). The store keeps only the key's id and a check ciphertext: a wrong or missing key is refused at
start-up, before anything is decrypted. Nothing here ever prints, logs or audits a value.

A change a person makes to the store (:func:`store_secret`, :func:`delete_secret`,
:func:`rotate_secrets_key`) is recorded here, as ``secret.stored``, ``secret.deleted`` and
``secret.key_rotated``: names, versions and key ids, never a value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets as _random
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proctor.errors import (
    ConfigError,
    SecretDecryptFailed,
    SecretKeyInvalid,
    UnknownSecret,
    ValidationError,
)
from proctor.store.base import SecretKeyRecord, SecretRecord, Store
from proctor.workspace import Workspace

if TYPE_CHECKING:
    from proctor.audit.log import AuditLog

__all__ = [
    "AAD_PREFIX",
    "KEY_BYTES",
    "KEY_ENV",
    "KEY_FILE",
    "MAX_VALUE_BYTES",
    "NAME_RE",
    "NONCE_BYTES",
    "Secret",
    "SecretStore",
    "check_name",
    "decode_env_key",
    "delete_secret",
    "encode_key",
    "key_id_of",
    "key_path",
    "load_secrets_key",
    "new_key",
    "rotate_key_file",
    "rotate_secrets_key",
    "store_secret",
    "write_private",
]


KEY_ENV = "PROCTOR_SECRETS_KEY"
KEY_FILE = "secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12
MAX_VALUE_BYTES = 64 * 1024
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
AAD_PREFIX = b"proctor-secret-v1\0"
_CHECK_AAD_PREFIX = b"proctor-secret-key-check-v1\0"
_CHECK_TEXT = b"proctor secrets key check"
_WRONG_KEY = "the secrets key does not match this store; nothing was decrypted"


class Secret:
    """A secret value that never shows itself: ``repr`` and ``str`` print ``(sensitive)``.

    >>> Secret("db.admin", b"hunter2")
    Secret('db.admin', '(sensitive)')
    """

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: bytes) -> None:
        self.name = name
        self._value = value

    def reveal(self) -> bytes:
        """The plaintext. Hand it straight to the upstream; never print or log it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, '(sensitive)')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self.name == other.name and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def key_id_of(key: bytes) -> str:
    """The public id of a key: the first 16 hex digits of its SHA-256 (never the key)."""
    return hashlib.sha256(key).hexdigest()[:16]


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = name[:80] if isinstance(name, str) else type(name).__name__
        raise ValidationError(
            f"invalid secret name `{shown}`: use 1-128 of a-z, 0-9, `_`, `.`, `-`, starting with a letter or digit"
        )
    return name


def _aad(name: str) -> bytes:
    return AAD_PREFIX + name.encode()


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise SecretKeyInvalid(f"the secrets key must be {KEY_BYTES} bytes; nothing was decrypted")
    return bytes(key)


def key_path(workspace: Workspace) -> Path:
    return workspace.keys_dir / KEY_FILE


def decode_env_key(raw: str, var: str = KEY_ENV) -> bytes:
    """A key given as base64url (padding optional) of 32 bytes."""
    text = raw.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SecretKeyInvalid(f"`{var}` is not base64url; expected {KEY_BYTES} bytes") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyInvalid(f"`{var}` holds {len(key)} bytes; the secrets key is {KEY_BYTES} bytes")
    return key


def encode_key(key: bytes) -> str:
    """base64url (unpadded) of a key, the form ``PROCTOR_SECRETS_KEY`` takes."""
    return base64.urlsafe_b64encode(_check_key(key)).decode().rstrip("=")


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (never over an existing file), write and fsync it, and fsync
    its directory: the file's name is on disk too before anything comes to depend on the key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read_key_file(path: Path) -> bytes:
    st = path.stat()
    if st.st_mode & 0o077:
        raise SecretKeyInvalid(
            f"`{path}` is readable by other users: run `chmod 600 {path}`; nothing was decrypted"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SecretKeyInvalid(
            f"`{path}` is not a secrets key ({len(key)} bytes, expected {KEY_BYTES}); nothing was decrypted"
        )
    return key


def load_secrets_key(
    workspace: Workspace, *, store: Store | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """The workspace secrets key: ``PROCTOR_SECRETS_KEY`` if set, else ``keys/secrets.key``.

    A missing key file is created (32 random bytes, 0600) unless ``store`` already holds secrets: then
    a new key could decrypt none of them, so this refuses with :class:`SecretKeyInvalid`.
    """
    env = os.environ if env is None else env
    if raw := env.get(KEY_ENV):
        return decode_env_key(raw)
    path = key_path(workspace)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    if store is not None and (count := store.count_secrets()) > 0:
        raise SecretKeyInvalid(
            f"no secrets key: `{path}` is missing and `{KEY_ENV}` is not set, but the store holds"
            f" {count} secret(s) encrypted under key `{_active_id(store)}`; restore the key file"
            " (nothing was decrypted)"
        )
    workspace.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):  # another process created it first: use theirs
        write_private(path, _random.token_bytes(KEY_BYTES))
    return _read_key_file(path)


def _active_id(store: Store) -> str:
    active = store.active_secret_key()
    return "?" if active is None else active.key_id


def _key_check(key: bytes, now: float) -> SecretKeyRecord:
    kid = key_id_of(key)
    nonce = os.urandom(NONCE_BYTES)
    ct = AESGCM(key).encrypt(nonce, _CHECK_TEXT, _CHECK_AAD_PREFIX + kid.encode())
    return SecretKeyRecord(key_id=kid, check_nonce=nonce, check_ciphertext=ct, created_at=now)


def _verify_check(key: bytes, rec: SecretKeyRecord) -> None:
    kid = key_id_of(key)
    # Compare ids first: a wrong key is refused without a single decryption.
    if not hmac.compare_digest(rec.key_id, kid):
        raise SecretKeyInvalid(_WRONG_KEY, key_id=kid, expected=rec.key_id)
    try:
        text = AESGCM(key).decrypt(rec.check_nonce, rec.check_ciphertext, _CHECK_AAD_PREFIX + kid.encode())
    except InvalidTag:
        raise SecretKeyInvalid(_WRONG_KEY, key_id=kid) from None
    if not hmac.compare_digest(text, _CHECK_TEXT):
        raise SecretKeyInvalid(_WRONG_KEY, key_id=kid)


class SecretStore:
    """Encrypts and decrypts secrets held in a :class:`proctor.store.base.Store`.

    Construction checks ``key`` against the store's key check (recording it if the store has none):
    a wrong key raises :class:`SecretKeyInvalid` here, before any secret is read.
    """

    def __init__(self, store: Store, key: bytes, *, now: float) -> None:
        key = _check_key(key)
        self.store = store
        self.key_id = key_id_of(key)
        active = store.ensure_secret_key(_key_check(key, now))
        _verify_check(key, active)
        self._aead = AESGCM(key)
        # a key of its own for each use derived from this one (see :meth:`derive`), never the key
        self._derive_root = hmac.new(key, b"proctor-derive-v1", hashlib.sha256).digest()

    def derive(self, label: str) -> bytes:
        """A 32-byte key for ``label`` derived from the workspace key (HMAC-SHA256): the flow
        stage keys its value fingerprints with ``derive("flow-fingerprint")``. It changes when the
        key is rotated (``proctor secret rotate-key``)."""
        return hmac.new(self._derive_root, label.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"SecretStore(key_id={self.key_id!r})"

    @classmethod
    def open(
        cls,
        workspace: Workspace,
        store: Store,
        *,
        now: float,
        env: Mapping[str, str] | None = None,
    ) -> SecretStore:
        """The workspace's secret store, with its key from the environment or the key file."""
        try:
            return cls(store, load_secrets_key(workspace, store=store, env=env), now=now)
        except SecretKeyInvalid as exc:
            pending = key_path(workspace).with_name(KEY_FILE + ".new")
            if pending.exists():  # the one hint that names the way out of an interrupted rotation
                raise SecretKeyInvalid(
                    f"{exc.message}. `{pending}` exists: a rotation was interrupted after the store moved"
                    f" to the new key; move that file over `{key_path(workspace)}`"
                ) from None
            raise

    def _encrypt(self, aead: AESGCM, name: str, value: bytes) -> tuple[bytes, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return nonce, aead.encrypt(nonce, value, _aad(name))

    def seal(self, context: bytes, data: bytes) -> tuple[str, bytes, bytes]:
        """Encrypt ``data`` that is not a named secret (an approval request's arguments), bound to
        ``context`` (the AAD: what it belongs to). Returns ``(key_id, nonce, ciphertext)``."""
        nonce = os.urandom(NONCE_BYTES)
        return self.key_id, nonce, self._aead.encrypt(nonce, data, b"proctor-sealed-v1\0" + context)

    def unseal(self, key_id: str, nonce: bytes, ciphertext: bytes, context: bytes) -> bytes:
        """The data :meth:`seal` encrypted under ``context``; :class:`SecretDecryptFailed` when the
        key was rotated since, or the ciphertext or its context was altered."""
        if key_id != self.key_id:
            raise SecretDecryptFailed(f"sealed under key `{key_id}`, which is not the active key")
        try:
            return self._aead.decrypt(nonce, ciphertext, b"proctor-sealed-v1\0" + context)
        except InvalidTag:
            raise SecretDecryptFailed("the sealed data or its context was altered") from None

    def put(self, name: str, value: bytes | str, now: float) -> int:
        """Store (or replace) ``name``; returns its new version."""
        check_name(name)
        data = value.encode() if isinstance(value, str) else bytes(value)
        if len(data) > MAX_VALUE_BYTES:
            raise ValidationError(f"secret `{name}` is {len(data)} bytes; at most {MAX_VALUE_BYTES}")
        nonce, ct = self._encrypt(self._aead, name, data)
        return self.store.put_secret(name, self.key_id, nonce, ct, now)

    def _decrypt(self, rec: SecretRecord) -> bytes:
        if rec.key_id != self.key_id:
            raise SecretKeyInvalid(
                f"secret `{rec.name}` is encrypted under key `{rec.key_id}`, not this store's key"
                f" `{self.key_id}`; nothing was decrypted"
            )
        try:
            return self._aead.decrypt(rec.nonce, rec.ciphertext, _aad(rec.name))
        except InvalidTag:
            raise SecretDecryptFailed(
                f"secret `{rec.name}` failed authentication: its stored ciphertext was altered or copied"
                " from another secret; store it again",
                name=rec.name,
            ) from None

    def get(self, name: str) -> bytes:
        """The plaintext of ``name``; :class:`UnknownSecret` if there is none."""
        check_name(name)
        rec = self.store.get_secret(name)
        if rec is None:
            raise UnknownSecret(f"unknown secret `{name}`", name=name)
        return self._decrypt(rec)

    def secret(self, name: str) -> Secret:
        """:meth:`get`, wrapped so that printing it shows no value."""
        return Secret(name, self.get(name))

    def names(self) -> list[str]:
        return [r.name for r in self.store.list_secrets()]

    def records(self) -> list[SecretRecord]:
        """Stored secrets (ciphertext and metadata, no plaintext), ordered by name."""
        return self.store.list_secrets()

    def delete(self, name: str) -> bool:
        check_name(name)
        return self.store.delete_secret(name)

    def rotate_key(self, new_key: bytes, now: float) -> int:
        """Re-encrypt every secret under ``new_key`` in one transaction and retire the current key.

        On any failure nothing changes and the current key keeps working. Afterwards this object uses
        ``new_key``. Returns how many secrets were re-encrypted.
        """
        new_key = _check_key(new_key)
        new_aead = AESGCM(new_key)
        check = _key_check(new_key, now)

        def reencrypt(rec: SecretRecord) -> tuple[bytes, bytes]:
            return self._encrypt(new_aead, rec.name, self._decrypt(rec))

        count = self.store.rotate_secret_key(self.key_id, check, reencrypt, now)
        self._aead, self.key_id = new_aead, check.key_id
        return count


def new_key() -> bytes:
    """32 random bytes from the OS CSPRNG."""
    return _random.token_bytes(KEY_BYTES)


def rotate_key_file(
    workspace: Workspace, secret_store: SecretStore, now: float, *, key: bytes | None = None
) -> tuple[str, int]:
    """Rotate a key-file secrets key: write the new key to ``keys/secrets.key.new`` (0600), re-encrypt
    the store under it, then ``os.replace`` it over ``keys/secrets.key``. If the store step fails, the
    new file is removed and nothing changed. Returns the new key id and how many secrets moved.
    """
    path = key_path(workspace)
    tmp = path.with_name(KEY_FILE + ".new")
    key = new_key() if key is None else _check_key(key)
    try:
        write_private(tmp, key)
    except FileExistsError:
        raise ConfigError(
            f"`{tmp}` exists: an earlier rotation was interrupted. If `proctor secret get`-style reads"
            f" (a gateway call that injects a secret) fail with `secret_key_invalid`, the store was"
            f" rotated to it: move it over `{path}`; otherwise delete it"
        ) from None
    try:
        count = secret_store.rotate_key(key, now)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return secret_store.key_id, count


def store_secret(
    secret_store: SecretStore, audit: AuditLog, name: str, value: bytes | str, now: float
) -> int:
    """Store (or replace) ``name`` and record ``secret.stored``; returns its new version."""
    version = secret_store.put(name, value, now)
    audit.append("secret.stored", {"name": name, "version": version, "key_id": secret_store.key_id})
    return version


def delete_secret(secret_store: SecretStore, audit: AuditLog, name: str) -> SecretRecord:
    """Delete ``name`` and record ``secret.deleted``; :class:`UnknownSecret` if there is none.
    Returns the record it was (its version and key id, no plaintext)."""
    check_name(name)
    rec = secret_store.store.get_secret(name)
    if rec is None or not secret_store.delete(name):
        raise UnknownSecret(f"unknown secret `{name}`")
    audit.append("secret.deleted", {"name": name, "version": rec.version, "key_id": rec.key_id})
    return rec


def rotate_secrets_key(
    workspace: Workspace,
    secret_store: SecretStore,
    audit: AuditLog,
    now: float,
    *,
    key: bytes | None = None,
    env_mode: bool = False,
) -> tuple[str, int]:
    """Re-encrypt every secret under a new key and record ``secret.key_rotated``. With ``env_mode``
    (the key comes from ``PROCTOR_SECRETS_KEY``) ``key`` is required and the caller sets the
    variable; otherwise :func:`rotate_key_file` replaces the key file (with ``key`` or a new one).
    Returns the old key id and how many secrets moved."""
    old = secret_store.key_id
    if env_mode:
        if key is None:
            raise ConfigError(f"the secrets key comes from `{KEY_ENV}`: give the new key")
        count = secret_store.rotate_key(key, now)
    else:
        _, count = rotate_key_file(workspace, secret_store, now, key=key)
    audit.append(
        "secret.key_rotated",
        {
            "old_key_id": old,
            "key_id": secret_store.key_id,
            "secrets": count,
            "source": "env" if env_mode else "file",
        },
    )
    return old, count
