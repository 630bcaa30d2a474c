"""The assignment engine: emergencies placed in seconds (`emergency`), planned work optimised
into routes (`planner`), and the reconciler that re-drives lost work (`reconcile`)."""
