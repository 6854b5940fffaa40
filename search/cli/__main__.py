"""``python -m search.cli``: the ``lion-search`` console script."""

import sys

from search.cli import main

sys.exit(main())
