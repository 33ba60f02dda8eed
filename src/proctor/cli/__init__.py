"""The ``proctor`` command line: one module per command group (see :mod:`proctor.cli.main`)."""

__all__: list[str] = []
