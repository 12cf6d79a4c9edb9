"""``/docs`` works on a machine without internet: its page loads only our own URLs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hotdeals.app import create_app
from hotdeals.config import Settings


def test_the_docs_page_and_its_assets_come_from_this_server() -> None:
    with TestClient(create_app(Settings(database_url="sqlite://"))) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
        assert urls, "the page references its script, style and favicon"
        for url in urls:
            assert url.startswith("/"), f"/docs loads {url} from another host"
        assets = [u for u in urls if u.startswith("/docs-assets/")]
        assert {u.rsplit("/", 1)[1] for u in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
        for url in assets:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.content, url
            assert "immutable" in response.headers["cache-control"]
        assert client.get("/openapi.json").status_code == 200


def test_only_the_bundle_files_are_served() -> None:
    with TestClient(create_app(Settings(database_url="sqlite://"))) as client:
        page = client.get("/docs").text
        prefix = re.search(r"(/docs-assets/[^/]+)/", page)
        assert prefix is not None
        for name in ("index.html", "..%2F..%2Fsetup.py", "swagger-initializer.js"):
            assert client.get(f"{prefix.group(1)}/{name}").status_code == 404
