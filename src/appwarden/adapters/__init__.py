"""Everything that touches the outside world: database, files, mail, gateways, clocks."""
