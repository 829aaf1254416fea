"""``python -m hpo_desktop`` runs the same entry point as ``hpo-desktop``."""

from .app import main

raise SystemExit(main())
