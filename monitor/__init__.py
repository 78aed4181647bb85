"""The long-running monitor and its commands."""

import sys

# httpx imports its command-line client when rich, click and pygments are installed (our commands'
# progress bars bring rich): ~6 MB of modules the daemon never runs (measured: 28.6 vs 22.9 MB
# resident after `import httpx`). Marked absent before anything imports httpx, it defines the stub
# `main` it has for an install without the client's extras; our code never calls it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
