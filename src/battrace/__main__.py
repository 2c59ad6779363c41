"""`python -m battrace` runs the command line."""

from battrace.cli import main

main()
