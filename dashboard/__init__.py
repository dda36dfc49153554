"""The supplytwin dashboard: a Dash front end on the same code paths as the CLI.

Start it with ``supplytwin dashboard`` (or ``make dashboard``); build it in code with
:func:`dashboard.app.create_app`. Only :mod:`dashboard.services` imports supplytwin; pages are
thin callbacks over the pure functions in :mod:`dashboard.figures` and
:mod:`dashboard.components`. See ``docs/dashboard.md``.
"""
