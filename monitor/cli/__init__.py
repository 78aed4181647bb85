"""The front door: `main` parses the command line, runs one command and is the only place where
our errors become one line and an exit code; `options` is what the command modules share."""
