"""Entry points: the CLI, the HTTP API and decision listener, the web console."""
