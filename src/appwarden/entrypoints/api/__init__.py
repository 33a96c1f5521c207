"""HTTP: the admin API (Starlette) and the decision listener for mail gateways (raw asyncio)."""
