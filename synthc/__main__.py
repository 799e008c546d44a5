"""Allow `python -m synthc`."""

from synthc.cli import main

raise SystemExit(main())
