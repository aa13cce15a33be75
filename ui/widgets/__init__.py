"""Reusable widgets and models: schema-driven forms, image views, the lazy thumbnail model."""
