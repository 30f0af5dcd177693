"""/docs renders in a browser that can reach nothing but this server."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect


def _offline(page: Page, base: str) -> list[str]:
    """Refuse every request that leaves the server; return the list of refused addresses."""
    refused: list[str] = []
    ours = urlsplit(base).netloc

    def route(r: Route) -> None:
        if urlsplit(r.request.url).netloc == ours:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_swagger_ui_renders_the_api_offline(page: Page, base: str) -> None:
    refused = _offline(page, base)
    page.goto(f"{base}/docs")
    # The schema of ~200 routes is built on first request; on a loaded machine that and
    # Swagger's render take longer than expect's default 5 s.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("doorstep", timeout=30_000)
    expect(page.get_by_text("/auth/token", exact=True).first).to_be_visible()
    assert refused == []
