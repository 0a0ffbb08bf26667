"""``python -m compiler`` is the same as ``slo``."""

from compiler.cli import main

main(prog_name="slo")
