"""The admin console (管理コンソール): tenant settings for holders and admins.

One blueprint (``views.bp``); ``users`` adds the user pages to it."""

from . import users as users  # noqa: F401 (its routes join the blueprint on import)
from .views import bp as bp
