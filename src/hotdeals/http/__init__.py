"""What the API and the pages share, one floor below both: app state, dependencies, auth, errors.

``hotdeals.api`` (JSON) and ``hotdeals.web`` (HTML) are siblings that never import each other;
``hotdeals.app`` mounts both. Anything both need lives here.
"""
