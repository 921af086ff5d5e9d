"""Errors raised by dpsynth.

Every error derives from :class:`DpsynthError` and also from the built-in exception a caller
would expect (``ValueError`` for bad input, ``ImportError`` for a missing extra), so
``except ValueError`` keeps working. Messages name the parameter or column and the problem;
they never contain a value read from private data.
"""


class DpsynthError(Exception):
    """Base class of every error dpsynth raises on purpose."""


class BudgetError(DpsynthError, ValueError):
    """A privacy budget or allocation is invalid (names the parameter)."""


class BudgetExceeded(DpsynthError, ValueError):
    """A charge was refused because it would overspend a part or the total; nothing was measured."""


class LedgerError(DpsynthError, RuntimeError):
    """The durable budget ledger could not be read or written."""


class LedgerCapExceeded(BudgetExceeded):
    """A release would pass the lifetime cap set for its dataset in the ledger."""


class SchemaError(DpsynthError, ValueError):
    """A schema is invalid or does not match the data (names the column)."""


class DataError(DpsynthError, ValueError):
    """Input data cannot be used (names the column and the problem, never a value)."""


class ParameterError(DataError):
    """A parameter is outside what it accepts (names it, what is allowed and what was given)."""


class ModelError(DpsynthError, ValueError):
    """The graphical model engine was given inconsistent inputs (attributes, shapes, codes)."""


class ArgumentTypeError(DpsynthError, TypeError):
    """An argument has the wrong type (names it and the type given, never its value)."""


class ModelTooLarge(DpsynthError, ValueError):
    """A graphical model would not fit in the memory limit set for it."""


class NotFittedError(DpsynthError, AttributeError):
    """A generator was asked to sample before it was fitted."""


class MissingExtraError(DpsynthError, ImportError):
    """An optional extra (for example ``dpsynth[neural]``) is needed and not installed."""


class PrivacyWarning(UserWarning):
    """Something about a run weakens what may be claimed of it (for example a fixed seed)."""
