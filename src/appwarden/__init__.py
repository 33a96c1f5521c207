"""AppWarden: keep barred apps off devices that reach corporate mail.

The public surface of the package is deliberately small; everything else is reached through the
CLI (`appwarden`), the HTTP API, or `appwarden.bootstrap`.

Public names: `__version__`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
