"""``python -m proctor``: the ``proctor`` command, for an environment whose scripts are not on ``PATH``."""

from proctor.cli.main import main

if __name__ == "__main__":
    main()
