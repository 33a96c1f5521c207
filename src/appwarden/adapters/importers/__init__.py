"""Inventory importers: each turns one source's documented format into an ImportBatch."""
