"""Tests of the demo territory."""
