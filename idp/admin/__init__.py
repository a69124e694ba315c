"""The admin console (管理コンソール): tenant settings for holders and admins."""
