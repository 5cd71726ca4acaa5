"""Unit tests.

This file makes pytest put tests/unit on `sys.path`, so that the tests in its
subdirectories can import the helpers they share from `unit_helpers`.
"""
