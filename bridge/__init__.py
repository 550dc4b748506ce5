"""Code that touches both frameworks: weight and optimizer-state transfer,
checkpoint conversion and lock-step comparison. Used by ``parity_tests``,
``scripts/convert.py`` and ``scripts/compare.py``; the two implementations
themselves never import each other."""
