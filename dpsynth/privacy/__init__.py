"""Privacy core: budget, events, accountant, secure noise and the durable ledger."""
