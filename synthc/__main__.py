"""Allow `python -m synthc`."""

from synthc.command import main

raise SystemExit(main())
