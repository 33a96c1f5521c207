from appwarden.entrypoints.cli.main import run

run()
