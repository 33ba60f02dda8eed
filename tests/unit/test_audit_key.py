"""The workspace's Ed25519 audit key: created once, registered in the store, never silently replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.audit.key import load_or_create_audit_key
from proctor.clock import FrozenClock
from proctor.crypto.jose import ed25519_public_from_jwk, jwk_thumbprint
from proctor.errors import ConfigError
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


def test_audit_key_signs_and_registers(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """The audit key is Ed25519, registered with use=audit, and verifiable from the store's JWK."""
    key = load_or_create_audit_key(keydir, store, clock.now())
    (record,) = store.list_keys("audit")
    assert record.kid == key.kid == jwk_thumbprint(record.public_jwk)
    assert record.public_jwk["kty"] == "OKP"
    sig = key.sign(b"head")
    ed25519_public_from_jwk(record.public_jwk).verify(sig, b"head")
    again = load_or_create_audit_key(keydir, store, clock.now() + 1)
    assert again.kid == key.kid
    assert len(store.list_keys("audit")) == 1
    assert "private" not in repr(again)


def test_audit_key_lost_file_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """A lost audit key file is not silently replaced when the store knows an audit key."""
    load_or_create_audit_key(keydir, store, clock.now())
    (keydir / "audit-ed25519.pem").unlink()
    with pytest.raises(ConfigError, match="missing"):
        load_or_create_audit_key(keydir, store, clock.now())


def test_audit_key_wrong_type_is_refused(keydir: Path, store: Store, clock: FrozenClock) -> None:
    """An audit key file holding an EC key is refused."""
    keys = SigningKeys(keydir, store, clock.now())
    (keydir / f"svid-{keys.active_kid}.pem").rename(keydir / "audit-ed25519.pem")
    with pytest.raises(ConfigError, match="not an Ed25519 key"):
        load_or_create_audit_key(keydir)
