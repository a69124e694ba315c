"""Second factors: SMS codes, authenticator apps (TOTP) and recovery codes."""
