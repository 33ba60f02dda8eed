"""Just-in-time credentials: the encrypted secret store and the leases issued from it."""

__all__: list[str] = []
