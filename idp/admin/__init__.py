"""The admin console (管理コンソール): tenant settings for holders and admins.

One blueprint (``views.bp``); ``users`` and ``events`` add their pages to it."""

from . import events as events  # noqa: F401 (its routes join the blueprint on import)
from . import users as users  # noqa: F401
from .views import bp as bp
