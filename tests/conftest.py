"""Shared test set-up. Qt must render offscreen (no display on CI), decided before any Qt import."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
