"""Off-policy evaluation on the user's own logs: reading them, replaying learners, and the standard estimators."""
