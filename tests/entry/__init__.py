"""Tests of the entry points: `cli`, `ask` and `serve` (a package so module names cannot clash)."""
