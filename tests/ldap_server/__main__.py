"""Run the test directory by hand, for trying the LDAP bind with `make run`:

    .venv/bin/python -m tests.ldap_server [--port 8389] [--ldaps-port 8636]

Prints its URLs, base DN, service account, CA bundle and people, and serves
until Ctrl-C. Start the provider with SSL_CERT_FILE set to the CA bundle."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..services import wait_for_signal
from . import PEOPLE, seed_people
from .ca import TestCA
from .slapd import LdapServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.ldap_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8389, help="ldap:// port (StartTLS)")
    parser.add_argument("--ldaps-port", type=int, default=8636)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="slapd-"))
    ca = TestCA(folder / "ca")
    server = LdapServer(folder / "directory", ca, port=args.port, ldaps_port=args.ldaps_port).start()
    try:
        seed_people(server)
        print(f"url        {server.url} (StartTLS)  {server.ldaps_url}")
        print(f"base DN    {server.base_dn}")
        print(f"service    {server.service_dn} / {server.service_password}")
        print(f"CA bundle  {server.ca_bundle}  (SSL_CERT_FILE for the provider)")
        for sam, (_, password) in PEOPLE.items():
            print(f"person     {sam} or {server.people[sam].upn} / {password}")
        print(f"folder     {folder}; Ctrl-C stops")
        wait_for_signal()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
