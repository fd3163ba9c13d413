"""``python -m pyrometer`` runs the command-line interface."""

from pyrometer.cli import main

raise SystemExit(main())
