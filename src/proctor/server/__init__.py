"""The HTTP API."""

__all__: list[str] = []
