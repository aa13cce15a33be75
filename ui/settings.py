"""The one place the window's QSettings come from (organisation "labbench").

Tests point ``QSettings.setPath`` at a temporary folder; every settings object here follows the
default format and path, so nothing ever reaches the user's own settings.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANISATION = "labbench"
APPLICATION = "labbench"


def open_settings() -> QSettings:
    """The user's labbench settings, in the default format at the default path."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANISATION, APPLICATION)
