"""Artefacts of runs on disk: results folders written atomically (and, later, the run registry)."""
