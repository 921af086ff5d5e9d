"""The installed version of dpsynth: one source of truth, the package metadata (pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dpsynth")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
