"""The secret store: AES-256-GCM at rest, name-bound ciphertexts, a key checked before any decryption."""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.credentials import secrets as sec
from proctor.credentials.secrets import (
    KEY_ENV,
    MAX_VALUE_BYTES,
    Secret,
    SecretStore,
    encode_key,
    key_id_of,
    load_secrets_key,
    new_key,
    rotate_key_file,
)
from proctor.errors import (
    ConfigError,
    SecretDecryptFailed,
    SecretKeyInvalid,
    UnknownSecret,
    ValidationError,
)
from proctor.store.sqlite import SqliteStore
from proctor.workspace import Workspace

T0 = 1_767_225_600.0
KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
PLANTED = b"sk-live-PLANTED-7f3a9c1e5b2d8064"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "proctor.db")
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w, _ = Workspace.init(tmp_path / "ws")
    return w


def _raw(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_round_trip_versions_names_and_delete(db: SqliteStore) -> None:
    """put/get return the exact value (str is UTF-8 encoded); versions count up; delete removes."""
    ss = SecretStore(db, KEY_A, now=T0)
    assert ss.put("db.admin", "hunter2", T0) == 1
    assert ss.put("api_key-1", PLANTED, T0 + 1) == 1
    assert ss.put("db.admin", b"hunter3", T0 + 2) == 2
    assert ss.get("db.admin") == b"hunter3"
    assert ss.get("api_key-1") == PLANTED
    assert ss.names() == ["api_key-1", "db.admin"]
    rec = db.get_secret("db.admin")
    assert rec is not None
    assert rec.version == 2
    assert rec.created_at == T0
    assert rec.updated_at == T0 + 2
    assert ss.delete("db.admin") is True
    assert ss.delete("db.admin") is False
    with pytest.raises(UnknownSecret) as exc:
        ss.get("db.admin")
    assert exc.value.code == "unknown_secret"
    assert exc.value.message == "unknown secret `db.admin`"


def test_each_put_uses_a_fresh_nonce(db: SqliteStore) -> None:
    """Storing the same value twice yields different nonces and ciphertexts."""
    ss = SecretStore(db, KEY_A, now=T0)
    ss.put("a", b"same", T0)
    first = db.get_secret("a")
    ss.put("a", b"same", T0)
    second = db.get_secret("a")
    assert first is not None
    assert second is not None
    assert len(first.nonce) == 12
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_ciphertext_in_the_database_file_does_not_contain_the_plaintext(
    db: SqliteStore, tmp_path: Path
) -> None:
    """The SQLite file (and its WAL) holds the secret's name but never its value, nor the key."""
    ss = SecretStore(db, KEY_A, now=T0)
    ss.put("planted.name", PLANTED, T0)
    db.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("proctor.db"))
    assert b"planted.name" in blob  # we are looking at the right bytes
    assert PLANTED not in blob
    assert KEY_A not in blob
    assert key_id_of(KEY_A).encode() in blob


def test_ciphertext_moved_to_another_name_fails_to_decrypt(db: SqliteStore, tmp_path: Path) -> None:
    """AAD binds a ciphertext to its name: copied into another row it fails clearly, not as garbage."""
    ss = SecretStore(db, KEY_A, now=T0)
    ss.put("prod.db", PLANTED, T0)
    ss.put("dev.db", b"dev-password", T0)
    _raw(
        tmp_path / "proctor.db",
        "UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE name = 'prod.db'),"
        " ciphertext = (SELECT ciphertext FROM secrets WHERE name = 'prod.db') WHERE name = 'dev.db'",
    )
    with pytest.raises(SecretDecryptFailed) as exc:
        ss.get("dev.db")
    assert exc.value.code == "secret_decrypt_failed"
    assert "`dev.db`" in exc.value.message
    assert PLANTED.decode() not in exc.value.message
    assert ss.get("prod.db") == PLANTED


def test_tampered_ciphertext_fails_to_decrypt(db: SqliteStore, tmp_path: Path) -> None:
    """Flipping one ciphertext byte is detected by GCM's tag."""
    ss = SecretStore(db, KEY_A, now=T0)
    ss.put("x", b"value", T0)
    rec = db.get_secret("x")
    assert rec is not None
    flipped = bytes([rec.ciphertext[0] ^ 1]) + rec.ciphertext[1:]
    _raw(tmp_path / "proctor.db", "UPDATE secrets SET ciphertext = ? WHERE name = 'x'", (flipped,))
    with pytest.raises(SecretDecryptFailed):
        ss.get("x")


def test_wrong_key_is_refused_at_start_up_without_decrypting(
    db: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second key on a keyed store with secrets raises SecretKeyInvalid in the constructor, and
    AESGCM.decrypt is never called with it."""
    SecretStore(db, KEY_A, now=T0).put("a", PLANTED, T0)
    calls: list[bytes] = []
    real = AESGCM.decrypt

    def spy(self: AESGCM, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        calls.append(nonce)
        return real(self, nonce, data, aad)

    monkeypatch.setattr(AESGCM, "decrypt", spy)
    with pytest.raises(SecretKeyInvalid) as exc:
        SecretStore(db, KEY_B, now=T0)
    assert exc.value.code == "secret_key_invalid"
    assert isinstance(exc.value, ConfigError)
    assert exc.value.message == "the secrets key does not match this store; nothing was decrypted"
    assert calls == []
    active = db.active_secret_key()
    assert active is not None
    assert active.key_id == key_id_of(KEY_A)


def test_a_forged_key_check_with_the_right_id_is_refused(db: SqliteStore, tmp_path: Path) -> None:
    """If the stored check ciphertext does not verify under the key, start-up fails."""
    SecretStore(db, KEY_A, now=T0)
    _raw(tmp_path / "proctor.db", "UPDATE secret_keys SET check_ciphertext = zeroblob(41)")
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, KEY_A, now=T0)


def test_new_key_on_a_keyed_store_without_secrets_replaces_the_check(db: SqliteStore) -> None:
    """With no secrets stored there is nothing to lose: a new key takes over the store."""
    SecretStore(db, KEY_A, now=T0)
    ss = SecretStore(db, KEY_B, now=T0 + 1)
    ss.put("a", b"v", T0)
    assert ss.get("a") == b"v"
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, KEY_A, now=T0)


def test_key_must_be_32_bytes(db: SqliteStore) -> None:
    """Short keys are refused before anything touches the store."""
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, b"short", now=T0)
    assert db.active_secret_key() is None


def test_missing_key_file_with_existing_secrets_is_a_clear_error(ws: Workspace, db: SqliteStore) -> None:
    """Deleting keys/secrets.key while secrets exist fails at start-up; no new key file is made."""
    env: dict[str, str] = {}
    SecretStore.open(ws, db, now=T0, env=env).put("a", PLANTED, T0)
    path = ws.keys_dir / "secrets.key"
    path.unlink()
    with pytest.raises(SecretKeyInvalid) as exc:
        SecretStore.open(ws, db, now=T0, env=env)
    assert "missing" in exc.value.message
    assert "1 secret(s)" in exc.value.message
    assert "nothing was decrypted" in exc.value.message
    assert not path.exists()


def test_key_file_is_created_0600_on_first_use(ws: Workspace, db: SqliteStore) -> None:
    """The first use writes 32 random bytes to keys/secrets.key, owner read/write only."""
    key = load_secrets_key(ws, store=db, env={})
    path = ws.keys_dir / "secrets.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == key
    assert len(key) == 32
    assert load_secrets_key(ws, store=db, env={}) == key  # stable


def test_key_file_readable_by_others_is_refused(ws: Workspace) -> None:
    """A group- or world-readable key file is refused, as ssh refuses a loose private key."""
    key = load_secrets_key(ws, env={})
    path = ws.keys_dir / "secrets.key"
    os.chmod(path, 0o644)
    with pytest.raises(SecretKeyInvalid) as exc:
        load_secrets_key(ws, env={})
    assert "chmod 600" in exc.value.message
    assert key.hex() not in exc.value.message


def test_env_key_wins_over_the_key_file(ws: Workspace) -> None:
    """PROCTOR_SECRETS_KEY (base64url, padded or not) is used even when a key file exists."""
    load_secrets_key(ws, env={})
    assert load_secrets_key(ws, env={KEY_ENV: encode_key(KEY_B)}) == KEY_B
    assert load_secrets_key(ws, env={KEY_ENV: encode_key(KEY_B) + "="}) == KEY_B
    for bad in ("not base64!!", encode_key(KEY_B)[:20]):
        with pytest.raises(SecretKeyInvalid) as exc:
            load_secrets_key(ws, env={KEY_ENV: bad})
        assert KEY_ENV in exc.value.message


def test_rotate_key_re_encrypts_everything(db: SqliteStore) -> None:
    """After rotation every row is under the new key, the old key is refused, the new one reads all."""
    ss = SecretStore(db, KEY_A, now=T0)
    values = {f"s{i}": os.urandom(20 + i) for i in range(5)}
    for name, value in values.items():
        ss.put(name, value, T0)
    before = {r.name: r.ciphertext for r in db.list_secrets()}
    assert ss.rotate_key(KEY_B, T0 + 10) == 5
    assert ss.key_id == key_id_of(KEY_B)
    assert all(r.key_id == key_id_of(KEY_B) for r in db.list_secrets())
    assert all(before[r.name] != r.ciphertext for r in db.list_secrets())
    assert {n: ss.get(n) for n in values} == values
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, KEY_A, now=T0)
    fresh = SecretStore(db, KEY_B, now=T0)
    assert {n: fresh.get(n) for n in values} == values
    keys = {k.key_id: k for k in db.list_secret_keys()}
    assert keys[key_id_of(KEY_A)].retired_at == T0 + 10
    assert keys[key_id_of(KEY_B)].retired_at is None


def test_rotate_key_to_the_same_key_is_refused(db: SqliteStore) -> None:
    """Rotating to the current key is a mistake, not a no-op."""
    ss = SecretStore(db, KEY_A, now=T0)
    with pytest.raises(ValidationError):
        ss.rotate_key(KEY_A, T0)


def test_rotate_key_failure_mid_way_changes_nothing(db: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while re-encrypting the third secret rolls everything back: same rows, old key works."""
    ss = SecretStore(db, KEY_A, now=T0)
    for i in range(4):
        ss.put(f"s{i}", f"value-{i}", T0)
    before = db.list_secrets()
    keys_before = db.list_secret_keys()
    real = sec.SecretStore._encrypt
    calls = {"n": 0}

    def failing(self: SecretStore, aead: AESGCM, name: str, value: bytes) -> tuple[bytes, bytes]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure")
        return real(self, aead, name, value)

    monkeypatch.setattr(sec.SecretStore, "_encrypt", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ss.rotate_key(KEY_B, T0 + 10)
    monkeypatch.undo()
    assert calls["n"] == 3
    assert db.list_secrets() == before
    assert db.list_secret_keys() == keys_before
    assert ss.key_id == key_id_of(KEY_A)
    again = SecretStore(db, KEY_A, now=T0)
    assert [again.get(f"s{i}") for i in range(4)] == [f"value-{i}".encode() for i in range(4)]
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, KEY_B, now=T0)


def test_rotate_key_file_replaces_the_file_only_after_the_store(
    ws: Workspace, db: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a store failure the key file is untouched and no temp file is left; on success the file
    holds the new key (0600) and the old file's key is refused."""
    ss = SecretStore.open(ws, db, now=T0, env={})
    ss.put("a", PLANTED, T0)
    path = ws.keys_dir / "secrets.key"
    old = path.read_bytes()

    def boom(*_a: Any, **_k: Any) -> int:
        raise RuntimeError("store down")

    monkeypatch.setattr(db, "rotate_secret_key", boom)
    with pytest.raises(RuntimeError):
        rotate_key_file(ws, ss, T0 + 1)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in ws.keys_dir.iterdir() if p.name.startswith("secrets")) == ["secrets.key"]
    kid, count = rotate_key_file(ws, ss, T0 + 2)
    assert count == 1
    assert kid == key_id_of(path.read_bytes()) != key_id_of(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (ws.keys_dir / "secrets.key.new").exists()
    assert SecretStore.open(ws, db, now=T0, env={}).get("a") == PLANTED
    with pytest.raises(SecretKeyInvalid):
        SecretStore(db, old, now=T0)


def test_interrupted_rotation_leftover_is_reported(ws: Workspace, db: SqliteStore) -> None:
    """A leftover keys/secrets.key.new stops a new rotation with a clear error instead of overwriting."""
    ss = SecretStore.open(ws, db, now=T0, env={})
    (ws.keys_dir / "secrets.key.new").write_bytes(b"x" * 32)
    with pytest.raises(ConfigError, match="interrupted"):
        rotate_key_file(ws, ss, T0)
    assert ss.key_id == key_id_of((ws.keys_dir / "secrets.key").read_bytes())


def test_names_and_sizes_are_checked(db: SqliteStore) -> None:
    """Names follow `[a-z0-9][a-z0-9_.-]{0,127}`; values are at most 64 KiB; nothing invalid is stored."""
    ss = SecretStore(db, KEY_A, now=T0)
    for bad in ("", "Upper", "-lead", "a b", "a/b", "x" * 129, "é"):
        with pytest.raises(ValidationError):
            ss.put(bad, b"v", T0)
    ss.put("x" * 128, b"v", T0)
    ss.put("max", b"\0" * MAX_VALUE_BYTES, T0)
    with pytest.raises(ValidationError) as exc:
        ss.put("too.big", b"\0" * (MAX_VALUE_BYTES + 1), T0)
    assert "65537" in exc.value.message
    assert sorted(ss.names()) == ["max", "x" * 128]


def test_secret_wrapper_never_shows_its_value(db: SqliteStore) -> None:
    """repr/str/format of a Secret show only the name; reveal() gives the bytes; it cannot be pickled."""
    import pickle

    ss = SecretStore(db, KEY_A, now=T0)
    ss.put("db.admin", PLANTED, T0)
    s = ss.secret("db.admin")
    assert repr(s) == str(s) == f"{s}" == "Secret('db.admin', '(sensitive)')"
    assert PLANTED.decode() not in repr([s, {"k": s}])
    assert s.reveal() == PLANTED
    assert s == Secret("db.admin", PLANTED)
    assert s != Secret("db.admin", b"other")
    with pytest.raises(TypeError):
        pickle.dumps(s)
    assert "hunter" not in repr(ss)
    assert PLANTED.decode() not in repr(db.get_secret("db.admin"))


def test_arbitrary_bytes_round_trip() -> None:
    """Any bytes value up to the limit comes back exactly (hypothesis)."""
    with tempfile.TemporaryDirectory() as d:
        store = SqliteStore(Path(d) / "p.db")
        store.migrate()
        ss = SecretStore(store, KEY_A, now=T0)

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            value=st.binary(max_size=4096), name=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True)
        )
        def check(value: bytes, name: str) -> None:
            ss.put(name, value, T0)
            assert ss.get(name) == value

        try:
            check()
        finally:
            store.close()


def test_a_running_proctor_follows_a_key_rotated_by_another_process(tmp_path: Path) -> None:
    """The gateway holds the secret store open; `proctor secret rotate-key` runs in another process.
    The next injected secret is read under the new key, not refused until a restart."""
    from proctor.app import Proctor

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as running, Proctor.open(ws) as other:
        running.secrets.put("api.key", "value-before-rotation", running.clock.now())
        assert running.secret_value("api.key") == b"value-before-rotation"
        rotate_key_file(ws, other.secrets, other.clock.now())
        assert running.secret_value("api.key") == b"value-before-rotation"
        assert running.secrets.key_id == other.secrets.key_id


def test_an_interrupted_rotation_names_the_file_that_holds_the_key(ws: Workspace, db: SqliteStore) -> None:
    """The store was re-encrypted under the new key, then the process died before the rename: every
    command said only "the secrets key does not match this store". It now names `secrets.key.new`."""
    store = SecretStore.open(ws, db, now=T0, env={})
    store.put("api", "v1", 0.0)
    new = new_key()
    (ws.keys_dir / "secrets.key.new").write_bytes(new)
    os.chmod(ws.keys_dir / "secrets.key.new", 0o600)
    store.rotate_key(new, 1.0)  # the commit happened; the rename did not
    with pytest.raises(SecretKeyInvalid, match=r"secrets\.key\.new` exists"):
        SecretStore.open(ws, db, now=T0, env={})
