"""Adapters to mail gateways: commands AppWarden runs against them (doveadm) and the
configuration snippets it prints for them."""
