"""Benchmarks: quality and speed of crisisdesk side by side with other tools, on the same data."""
