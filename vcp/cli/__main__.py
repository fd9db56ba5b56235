"""`python -m vcp.cli`: the same as the `vcp` command."""

import sys

from vcp.cli import main

sys.exit(main())
