"""The `appwarden` command line (Typer + Rich)."""
