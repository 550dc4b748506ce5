"""Code that touches both frameworks: weight and optimizer-state transfer,
checkpoint conversion and lock-step comparison. Used by ``parity_tests``,
``ganport convert`` and ``ganport compare``; the two implementations
themselves never import each other."""
