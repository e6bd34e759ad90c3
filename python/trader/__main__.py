"""`python -m trader`: the same as the `trader` command."""

import sys

from trader.cli import main

sys.exit(main())
