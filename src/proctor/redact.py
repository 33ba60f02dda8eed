"""Redaction of secrets in text Proctor shows or records: below every stage (config, the store and the
CLI all use it)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url"]


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, in the user-info part and in the query string.

    >>> redact_url("postgresql://app:s3cret@db.internal:5432/proctor?sslmode=require")
    'postgresql://app:***@db.internal:5432/proctor?sslmode=require'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostinfo}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k == "password" for k, _ in pairs):
            query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*/:")
    return urlunsplit(parts._replace(netloc=netloc, query=query))
