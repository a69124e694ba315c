"""The language link of every page is a query-only reference: it keeps the
page's path and its other parameters, and never echoes the path, which a
browser could read as another host."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import requests

from ..rp import DEMO_PASSWORD, DEMO_USER, callback_params
from .helpers import TIMEOUT, authorize_url, query_of


def language_link(html: str) -> str:
    found = re.search(r'<a href="([^"]*)" hreflang="(?:en|ja)"', html)
    assert found, html[:500]
    return found.group(1).replace("&amp;", "&")


def test_a_path_a_browser_reads_as_another_host_is_not_echoed(live):
    for path in ("/%5Cevil.example/x", "//evil.example/x", "/%2F%2Fevil.example/x"):
        page = requests.get(live.url + path, timeout=TIMEOUT)
        assert page.status_code == 404
        link = language_link(page.text)
        assert link == "?lang=en", (path, link)
        assert "evil.example" not in page.text


def test_the_login_page_keeps_its_interaction_in_the_other_language(live):
    browser = live.browser()
    page = browser.get(authorize_url(live))
    link = language_link(page.text)
    assert link.startswith("?") and "interaction" in query_of(link)

    english = browser.get(urljoin(page.url, link))
    assert english.status_code == 200 and '<html lang="en">' in english.text
    assert query_of(english.url)["interaction"] == query_of(page.url)["interaction"]
    answer = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert "code" in callback_params(answer)
