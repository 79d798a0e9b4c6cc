"""``python -m comparison``: the command line."""
from comparison import cli

raise SystemExit(cli.main())
