"""``python -m neurorx.cli``: the same as the ``neurorx`` console script."""

import sys

from neurorx.cli import main

if __name__ == "__main__":
    sys.exit(main())
