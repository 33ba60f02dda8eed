"""Storage: one interface, SQLite and PostgreSQL behind it."""

from __future__ import annotations

from pathlib import Path

from proctor.errors import ConfigError
from proctor.store.base import Store


def open_store(url: str, *, base_dir: Path | None = None, migrate: bool = True) -> Store:
    """Open the store named by ``url`` (``sqlite:///path`` or ``postgresql://…``) and migrate it."""
    store: Store
    if url.startswith("sqlite:///"):
        from proctor.store.sqlite import SqliteStore

        raw = Path(url.removeprefix("sqlite:///"))
        path = raw if raw.is_absolute() or base_dir is None else base_dir / raw
        store = SqliteStore(path)
    elif url.startswith(("postgresql://", "postgres://")):
        from proctor.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise ConfigError(
            f"unsupported store URL `{url.split('://', maxsplit=1)[0]}://…`: use sqlite:/// or postgresql://"
        )
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["Store", "open_store"]
