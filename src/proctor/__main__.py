"""``python -m proctor``: the ``proctor`` command, for an environment whose scripts are not on ``PATH``."""

from proctor.cli.main import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
