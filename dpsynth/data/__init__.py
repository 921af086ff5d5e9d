"""The door to private data: :class:`PrivateTable` and its counting engine."""

from dpsynth.data.private_table import PrivateTable

__all__ = ["PrivateTable"]
