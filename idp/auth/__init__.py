"""Hosted sign-in: pages, the browser session, and what a sign-in proved."""
