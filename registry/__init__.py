"""Smart City Solution Registry.

Kept deliberately light: the publisher CLI imports ``registry.spec`` and must not
pay for Flask, SQLAlchemy and friends. The app itself lives in ``registry.app``.
"""


def create_app(config=None):
    """Build the Flask app; ``flask --app registry`` finds this factory."""
    from registry.app import create_app as _create_app

    return _create_app(config)
