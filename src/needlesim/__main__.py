"""``python -m needlesim``: the command line."""

from .cli import main

main()
