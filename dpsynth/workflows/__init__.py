"""The verbs: each entry point a custodian calls, as a plain function.

:mod:`~dpsynth.workflows.release` (make a release), :mod:`~dpsynth.workflows.audit` (attack any
synthetic table), :mod:`~dpsynth.workflows.compare` (sweep methods and budgets),
:mod:`~dpsynth.workflows.schema` (write a schema file) and :mod:`~dpsynth.workflows.ledger`
(the budget ledger's commands). Every one that measures private rows opens the door through
the composition root, :mod:`~dpsynth.workflows.root`. The CLI is a thin layer over these.
"""
