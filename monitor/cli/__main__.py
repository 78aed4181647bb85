"""`python -m monitor.cli`: the `dsns-monitor` command."""

import sys

from monitor.cli.main import main  # restructure: keep

sys.exit(main())
