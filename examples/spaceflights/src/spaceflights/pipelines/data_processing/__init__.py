"""Clean the raw companies and shuttles data and join them with reviews."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
