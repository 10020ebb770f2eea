"""Command line: Typer commands that call the library and render with Rich."""
