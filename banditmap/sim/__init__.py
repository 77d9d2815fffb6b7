"""The quick-benchmark: synthetic problems shaped like a profile, vectorised policies, and the race between them."""
