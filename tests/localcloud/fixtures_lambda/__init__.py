"""Fixtures for the local Lambda runtime tests: handler code to deploy and helpers to deploy and observe it."""
