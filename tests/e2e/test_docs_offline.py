"""The API docs pages work without internet access: every asset comes from this server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

# src=, href= and Swagger UI's ``url: '...'`` (the spec).
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*['"]([^'"]+)['"]""")


def test_docs_page_references_only_local_assets_that_are_served(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = {a or b for a, b in ASSET.findall(html)}
    assert any(a.endswith(".js") for a in assets), assets
    assert "/openapi.json" in assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset


def test_swagger_ui_does_not_call_the_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text
