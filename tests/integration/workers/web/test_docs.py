"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) work offline: every script, stylesheet and icon
their pages load is served by the web process itself, and answers."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from workers.web import create_app

pytestmark = pytest.mark.integration


class _Assets(HTMLParser):
    """The URLs a page loads: scripts' ``src``, stylesheets' and icons' ``href``, and the
    document Swagger UI or ReDoc is told to read."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))
        if tag == "redoc" and found.get("spec-url"):
            self.urls.append(str(found["spec-url"]))


def loaded_by(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_documents_is_served_here(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    urls = loaded_by(answer.text)
    assert any(url.endswith(".js") for url in urls), urls
    if page == "/docs":
        assert any(url.endswith(".css") for url in urls), urls
        assert "url: '/openapi.json'" in answer.text
    assert "://" not in answer.text  # no CDN, no web font: nothing from elsewhere
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url}"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


def test_the_swagger_ui_script_is_a_real_bundle(client: TestClient) -> None:
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in script.content
    assert "/openapi.json" in client.get("/docs").text
