"""Upstream accounts (manual §1.2, §1.5, §2): this provider as a relying party of
Google, Microsoft, docomo d-account and NTT East Business ID (OpenID Connect)
and of Facebook (OAuth 2.0 and the Graph API).

``broker``: the one interface (start: where the browser goes; finish: the
verified upstream identity). ``oidc`` and ``facebook``: its two kinds.
``flow``: what a sign-in waits with, sealed in this browser's session.
``views``: /login/<provider> and its callback, for sign-in, registration and
the login-method change.
"""
