"""The ``proctor`` command line."""
