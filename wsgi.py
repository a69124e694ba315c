"""gunicorn entry point: ``gunicorn wsgi:app``."""

import sys

from idp import create_app
from idp.config import ConfigError
from idp.operations import logs

logs.configure()
try:
    app = create_app()
except ConfigError as e:
    print(f"idp: {e}", file=sys.stderr)
    sys.exit(2)
