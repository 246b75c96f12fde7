"""The `textsel` command line: a thin Typer skin over the textsel library."""
