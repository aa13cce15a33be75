"""labbench: a lab bench for self-supervised visual representation learning (the headless engine)."""

__version__ = "0.1.0"
