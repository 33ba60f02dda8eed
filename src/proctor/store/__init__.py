"""Storage: one interface, SQLite and PostgreSQL behind it."""

from __future__ import annotations

from pathlib import Path

from proctor.errors import ConfigError
from proctor.store.base import Store


def open_store(
    url: str,
    *,
    base_dir: Path | None = None,
    migrate: bool = True,
    pool_size: int | None = None,
    pool_min: int | None = None,
) -> Store:
    """Open the store named by ``url`` (``sqlite:///path`` or ``postgresql://…``) and migrate it.
    ``pool_size``/``pool_min``: PostgreSQL's connection pool (``store_pool_size``, ``store_pool_min``)."""
    store: Store
    if url.startswith("sqlite:///"):
        from proctor.store.sqlite import SqliteStore

        raw = Path(url.removeprefix("sqlite:///"))
        path = raw if raw.is_absolute() or base_dir is None else base_dir / raw
        store = SqliteStore(path)
    elif url.startswith(("postgresql://", "postgres://")):
        from proctor.store.postgres import PostgresStore

        sizes = {"max_connections": pool_size, "min_connections": pool_min}
        store = PostgresStore(url, **{k: v for k, v in sizes.items() if v is not None})
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
