"""Diagram validation and the promises no diagram may break."""
