"""OpenID Connect and OAuth 2.0 protocol: grants, tokens, endpoints. No pages."""
