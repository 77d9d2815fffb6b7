"""The recommender: scoring and composing entries for a profile, batches, coverage, the annotated map, and the
choice of candidates that the race and the replay run."""
