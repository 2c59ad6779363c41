"""`python -m battrace.bench`: run every benchmark at a scale and print figures and ratios."""

from battrace.bench.runner import main

main()
