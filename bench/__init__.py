"""The data generator at scale and the benchmark scenarios (see README, "Performance")."""
