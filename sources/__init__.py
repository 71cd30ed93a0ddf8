"""Landing sources: each declared once (catalog), in the shape of spec."""

from sources.catalog import BY_NAME, SNAPSHOT_SOURCES, SOURCES, WORKER_SOURCES
from sources.spec import Column, NotBefore, Ref, Source

__all__ = ["BY_NAME", "SNAPSHOT_SOURCES", "SOURCES", "WORKER_SOURCES", "Column", "NotBefore", "Ref", "Source"]
