"""OpenID Connect identity provider for the work-storage service."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect

from .config import Settings, load_settings


class IdpFlask(Flask):
    """Flask with one database transaction per request, committed when the view
    returns, before the response leaves: a failure half way leaves nothing."""

    def dispatch_request(self) -> Any:
        from . import db

        rv = super().dispatch_request()
        db.commit()
        return rv


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    from . import cli, clock, db, errors, forms, i18n, operations, ratelimit, security
    from .account.ad_views import bp as account_ad_bp
    from .account.admin_mail_views import bp as admin_mail_bp
    from .account.contract_views import bp as account_contract_bp
    from .account.device_views import bp as account_device_bp
    from .account.email_views import bp as account_email_bp
    from .account.method_views import bp as account_method_bp
    from .account.password_views import bp as account_password_bp
    from .account.recovery_views import bp as recovery_bp
    from .account.registration_views import bp as registration_bp
    from .account.views import bp as account_bp
    from .admin import bp as admin_bp
    from .auth import remember
    from .auth.sessions import host_cookie, write_cookie
    from .auth.views import bp as auth_bp
    from .federation.ad_views import bp as ad_bp
    from .federation.views import bp as federation_bp
    from .keys import KeyStore
    from .mail import sender_for as mail_sender
    from .mfa.views import bp as mfa_bp
    from .oidc.discovery import metadata
    from .oidc.fastpath import HotPaths
    from .oidc.server import Server
    from .oidc.tokens import TokenIssuer
    from .oidc.views import bp as oidc_bp
    from .passwords import Passwords
    from .periodic import AtMostEvery
    from .sms import sender_for as sms_sender
    from .tenants import plans

    settings = settings or load_settings()
    app = IdpFlask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=host_cookie("idp_flow", settings.https),
        SESSION_COOKIE_PATH="/",  # the __Host- prefix needs Path=/ and no Domain
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        PERMANENT_SESSION_LIFETIME=3600,
        WTF_CSRF_TIME_LIMIT=3600,
        WTF_CSRF_CHECK_DEFAULT=False,  # forms check their own token; /token and /logout take RP posts
        WTF_I18N_ENABLED=False,  # pages word their own errors; WTForms' catalogue would load per form
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_AS_ASCII=False,
        **overrides,
    )
    keys = KeyStore(settings.keys_dir, settings.keys_passphrase)
    tokens = TokenIssuer(settings, keys)
    app.extensions.update(
        {
            "idp.settings": settings,
            "idp.keys": keys,
            "idp.tokens": tokens,
            "idp.passwords": Passwords(settings),
            "idp.discovery": json.dumps(metadata(settings.issuer)).encode(),
            "idp.mail": mail_sender(settings.smtp_url, settings.mail_from, settings.var_dir),
            "idp.sms": sms_sender(settings.sms_webhook_url, settings.var_dir),
            # On the provider's clock, so that the day is the one the tenants' dates follow.
            "idp.purge_schedule": AtMostEvery(plans.DAY, now=clock.timestamp),
        }
    )
    db.init_app(app, settings.database_url)
    ratelimit.init_app(app, settings.redis_url)
    CSRFProtect(app)
    i18n.init_app(app)
    app.extensions["idp.server"] = Server(app, settings, tokens)
    app.register_blueprint(oidc_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(account_contract_bp)
    app.register_blueprint(account_password_bp)
    app.register_blueprint(mfa_bp)
    app.register_blueprint(recovery_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_email_bp)
    app.register_blueprint(account_method_bp)
    app.register_blueprint(account_device_bp)
    app.register_blueprint(admin_mail_bp)
    app.register_blueprint(federation_bp)
    app.register_blueprint(ad_bp)
    app.register_blueprint(account_ad_bp)
    app.before_request(plans.purge_when_due)
    app.after_request(write_cookie)
    app.after_request(remember.write_cookie)
    cli.register(app)
    security.init_app(app, settings.https)
    errors.init_app(app)
    forms.init_app(app)
    app.wsgi_app = HotPaths(app, app.wsgi_app, security.static_headers(settings.https))
    operations.init_app(app, security.static_headers(settings.https))
    return app
