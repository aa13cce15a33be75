"""``python -m ui`` opens the lab bench window."""

from ui.app import main

raise SystemExit(main())
