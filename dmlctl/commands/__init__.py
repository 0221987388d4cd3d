"""One module per command group; each is a thin typer layer over plain functions."""
