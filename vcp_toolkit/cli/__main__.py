"""`python -m vcp.cli`: the same as the `vcp` command."""

import sys

from vcp_toolkit.cli import main

sys.exit(main())
