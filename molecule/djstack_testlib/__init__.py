"""Helpers shared by the testinfra suites of every Molecule scenario."""
