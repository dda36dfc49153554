"""One page per module. Each calls ``dash.register_page`` and, when it has callbacks, defines
``register_callbacks(app)``; :func:`dashboard.app.create_app` calls it. Pages list themselves in
the navigation by their ``order``; ``nav=False`` keeps a page out of it."""
