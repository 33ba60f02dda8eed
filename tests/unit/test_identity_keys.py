"""Signing keys: files and permissions, kids, rotation and JWKS."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from proctor.audit.key import load_or_create_audit_key
from proctor.clock import FrozenClock
from proctor.crypto.jose import (
    b64url,
    b64url_decode,
    ec_public_from_jwk,
    ec_public_jwk,
    jwk_thumbprint,
)
from proctor.errors import ConfigError, TokenInvalid
from proctor.identity import SigningKeys
from proctor.store import open_store
from proctor.store.base import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/p.db")
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    return tmp_path / "ws" / "keys"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_key_files_are_private(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """The key directory is 0700 and every private key file is 0600."""
    keys = SigningKeys(keydir, store, clock.now())
    audit = load_or_create_audit_key(keydir, store, clock.now())
    assert _mode(keydir) == 0o700
    files = sorted(keydir.iterdir())
    assert [f.name for f in files] == sorted([f"svid-{keys.active_kid}.pem", "audit-ed25519.pem"])
    assert all(_mode(f) == 0o600 for f in files)
    assert audit.kid


def test_key_files_created_0600_from_the_start(
    keydir: Path, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key files are opened with O_EXCL and mode 0600, even with a permissive umask."""
    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *a: Any, **kw: Any) -> int:
        if flags & os.O_CREAT:
            calls.append((str(path), flags, mode))
        return real_open(path, flags, mode, *a, **kw)

    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)
    try:
        SigningKeys(keydir, store, clock.now())
        load_or_create_audit_key(keydir, store, clock.now())
    finally:
        os.umask(old)
    assert len(calls) == 2
    for _, flags, mode in calls:
        assert mode == 0o600
        assert flags & os.O_EXCL
    assert all(_mode(f) == 0o600 for f in keydir.iterdir())


def test_kid_is_rfc7638_thumbprint(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """The kid is the SHA-256 JWK thumbprint over the required members in lexicographic order."""
    keys = SigningKeys(keydir, store, clock.now())
    (record,) = store.list_keys("svid")
    jwk = record.public_jwk
    canonical = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'.encode()
    assert keys.active_kid == b64url(hashlib.sha256(canonical).digest()) == record.kid
    assert jwk_thumbprint(jwk) == record.kid


def test_reopen_uses_the_same_key(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A second key ring on the same workspace loads the active key instead of making one."""
    a = SigningKeys(keydir, store, clock.now())
    b = SigningKeys(keydir, store, clock.now() + 5)
    assert a.active_kid == b.active_kid
    assert len(store.list_keys("svid")) == 1
    token = a.sign_claims({"aud": "x", "sub": "s"}, clock.now(), 60)
    assert b.verify_claims(token, "x", clock.now())["sub"] == "s"


def test_group_readable_key_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """Loading a key file that the group or others can read fails with a ConfigError."""
    keys = SigningKeys(keydir, store, clock.now())
    path = keydir / f"svid-{keys.active_kid}.pem"
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="readable by other users"):
        SigningKeys(keydir, store, clock.now())


def test_corrupt_key_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A key file that is not a PEM private key fails with a ConfigError naming the file."""
    keys = SigningKeys(keydir, store, clock.now())
    path = keydir / f"svid-{keys.active_kid}.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="corrupt"):
        SigningKeys(keydir, store, clock.now())


def test_missing_key_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """If the store's active key has no file, loading fails instead of silently making a new key."""
    keys = SigningKeys(keydir, store, clock.now())
    (keydir / f"svid-{keys.active_kid}.pem").unlink()
    with pytest.raises(ConfigError, match="missing"):
        SigningKeys(keydir, store, clock.now())
    # recovery: rotate at open makes a new key and retires the lost one
    fresh = SigningKeys(keydir, store, clock.now(), rotate=True)
    assert fresh.active_kid != keys.active_kid


def test_swapped_key_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A key file holding a different key than its name says is refused."""
    keys = SigningKeys(keydir, store, clock.now())
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (keydir / f"svid-{keys.active_kid}.pem").write_bytes(other)
    with pytest.raises(ConfigError, match="does not hold key"):
        SigningKeys(keydir, store, clock.now())


def test_symlinked_key_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A key file that is a symlink is refused (O_NOFOLLOW)."""
    keys = SigningKeys(keydir, store, clock.now())
    path = keydir / f"svid-{keys.active_kid}.pem"
    real = keydir / "real.pem"
    path.rename(real)
    path.symlink_to(real)
    with pytest.raises(ConfigError):
        SigningKeys(keydir, store, clock.now())


def test_open_key_directory_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A key directory that other users can enter or list is refused."""
    keydir.mkdir(parents=True, mode=0o755)
    keydir.chmod(0o755)
    with pytest.raises(ConfigError, match="chmod 700"):
        SigningKeys(keydir, store, clock.now())


def test_rotation_keeps_retired_key_until_drop(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A token signed by a retired key verifies, and its key stays in the JWKS, until drop_after."""
    keys = SigningKeys(keydir, store, clock.now(), max_token_ttl=600, skew=60)
    old_kid = keys.active_kid
    token = keys.sign_claims({"aud": "x"}, clock.now(), 600)
    clock.advance(10)
    new_kid = keys.rotate(clock.now())
    assert new_kid != old_kid
    assert keys.active_kid == new_kid
    assert not (keydir / f"svid-{old_kid}.pem").exists()
    assert _mode(keydir / f"svid-{new_kid}.pem") == 0o600
    (old,) = [k for k in store.list_keys("svid") if k.kid == old_kid]
    assert old.retired_at == clock.now()
    assert old.drop_after == clock.now() + 600 + 60

    assert {k["kid"] for k in keys.jwks(clock.now())["keys"]} == {old_kid, new_kid}
    assert keys.verify_claims(token, "x", clock.now())["aud"] == ["x"]
    fresh = SigningKeys(keydir, store, clock.now())  # another process sharing the store
    assert fresh.verify_claims(token, "x", clock.now())["aud"] == ["x"]
    new_token = keys.sign_claims({"aud": "x"}, clock.now(), 60)
    assert json.loads(_header(new_token))["kid"] == new_kid

    clock.set(old.drop_after)
    assert [k["kid"] for k in keys.jwks(clock.now())["keys"]] == [new_kid]
    for ring in (keys, SigningKeys(keydir, store, clock.now())):
        with pytest.raises(TokenInvalid, match="no longer trusted"):
            ring.public_key(old_kid, clock.now())
        with pytest.raises(TokenInvalid):
            ring.verify_claims(token, "x", clock.now())


def test_revoking_rotation_drops_old_key_at_once(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """rotate(revoke=True) stops the old key verifying immediately, even for cached tokens."""
    keys = SigningKeys(keydir, store, clock.now())
    old_kid = keys.active_kid
    token = keys.sign_claims({"aud": "x"}, clock.now(), 300)
    keys.verify_claims(token, "x", clock.now())  # now cached
    keys.rotate(clock.now(), revoke=True)
    assert old_kid not in {k["kid"] for k in keys.jwks(clock.now())["keys"]}
    with pytest.raises(TokenInvalid, match="no longer trusted"):
        keys.verify_claims(token, "x", clock.now())


def test_revoking_rotation_also_cuts_off_keys_retired_earlier(
    keydir: Path, store: Store, clock: FrozenClock
) -> None:
    """A key retired by an ordinary rotation keeps verifying for a while; a later revoking rotation
    (a key may have leaked) stops it too, not only the key that was active."""
    keys = SigningKeys(keydir, store, clock.now())
    first = keys.active_kid
    token = keys.sign_claims({"aud": "x"}, clock.now(), 300)
    keys.rotate(clock.now())
    keys.verify_claims(token, "x", clock.now())  # retired, still trusted
    keys.rotate(clock.now(), revoke=True)
    assert first not in {k["kid"] for k in keys.jwks(clock.now())["keys"]}
    with pytest.raises(TokenInvalid, match="no longer trusted"):
        keys.verify_claims(token, "x", clock.now())


def test_revocation_by_another_process_reaches_cache(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A key revoked through another key ring stops cached tokens here within the refresh interval."""
    mine = SigningKeys(keydir, store, clock.now(), refresh_interval=30)
    token = mine.sign_claims({"aud": "x"}, clock.now(), 300)
    mine.verify_claims(token, "x", clock.now())
    other = SigningKeys(keydir, store, clock.now())
    other.rotate(clock.now(), revoke=True)
    clock.advance(31)
    with pytest.raises(TokenInvalid, match="no longer trusted"):
        mine.verify_claims(token, "x", clock.now())
    # and this ring now signs with the other ring's new key
    assert mine.active_kid == other.active_kid


def test_jwks_shape(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """Each JWKS entry is a P-256 public key with kid, alg ES256 and use sig, and no private part."""
    keys = SigningKeys(keydir, store, clock.now())
    (jwk,) = keys.jwks(clock.now())["keys"]
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert jwk["kid"] == keys.active_kid
    assert ec_public_jwk(ec_public_from_jwk(jwk)) == jwk


def _header(token: str) -> bytes:
    return b64url_decode(token.split(".", maxsplit=1)[0])


def test_rotation_at_the_same_instant(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """Rotating repeatedly at one frozen instant always activates the new key and retires the rest."""
    keys = SigningKeys(keydir, store, clock.now())
    for _ in range(12):
        kid = keys.rotate(clock.now())
        assert keys.active_kid == kid
        active = [k.kid for k in store.list_keys("svid") if k.retired_at is None]
        assert active == [kid]
        assert SigningKeys(keydir, store, clock.now()).active_kid == kid
