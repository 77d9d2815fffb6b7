"""The catalog: its schema, reading YAML safely, loading and validating entries, profiles in its vocabulary."""
