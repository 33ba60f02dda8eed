"""Credential providers: one module per kind, each implementing :class:`Provider`."""

from proctor.credentials.providers.base import (
    Issued,
    IssueRequest,
    Provider,
    ProviderRegistry,
    RevocationUnrecoverable,
)

__all__ = ["IssueRequest", "Issued", "Provider", "ProviderRegistry", "RevocationUnrecoverable"]
