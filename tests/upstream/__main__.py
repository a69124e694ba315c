"""Run the upstreams by hand, for trying the provider's upstream sign-in with `make run`:

    .venv/bin/python -m tests.upstream [--idp http://127.0.0.1:8000] [--account EMAIL ...]

Registers one client per upstream whose redirect URI is {idp}/login/<provider>/callback,
adds the accounts to every upstream, prints what to configure, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..services import wait_for_signal
from .facebook import FacebookUpstream
from .oidc import PROVIDERS, OidcUpstreams

DEMO_ACCOUNTS = ["holder@demo.example", "user@demo.example"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.upstream", description=__doc__.split("\n")[0])
    parser.add_argument("--idp", default="http://127.0.0.1:8000", help="issuer of the provider signing in through them")
    parser.add_argument("--port", type=int, default=8201, help="port of the four OpenID providers")
    parser.add_argument("--facebook-port", type=int, default=8202)
    parser.add_argument("--account", action="append", help="email of an upstream account (repeatable)")
    args = parser.parse_args()

    log = Path(tempfile.mkdtemp(prefix="upstreams-")) / "node.log"
    oidc = OidcUpstreams(log, port=args.port).start()
    facebook = FacebookUpstream(port=args.facebook_port).start()
    try:
        for email in args.account or DEMO_ACCOUNTS:
            for name in PROVIDERS:
                oidc.add_account(name, email)
            facebook.add_account(email)
        for name in PROVIDERS:
            client = oidc.register_client(
                name, f"{args.idp}/login/{name}/callback", client_id=f"{name}-client", client_secret=f"{name}-secret"
            )
            print(f"{name:9} discovery {oidc[name].discovery_url}")
            print(f"{'':9} client    {client.client_id} / {client.client_secret} -> {client.redirect_uri}")
        app = facebook.register_app(
            f"{args.idp}/login/facebook/callback", app_id="100000000000001", app_secret="facebook-secret"
        )
        print(f"facebook  dialog    {facebook.authorize_url}")
        print(f"{'':9} token     {facebook.token_url}")
        print(f"{'':9} graph     {facebook.graph_url}")
        print(f"{'':9} app       {app.client_id} / {app.client_secret} -> {app.redirect_uri}")
        print(f"accounts: {', '.join(args.account or DEMO_ACCOUNTS)}; node log: {log}; Ctrl-C stops")
        wait_for_signal()
    finally:
        facebook.stop()
        oidc.stop()


if __name__ == "__main__":
    main()
