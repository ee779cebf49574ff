"""The claim service's pages: German and English, no referrer, nothing loaded from other hosts."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from claims_testkit import ClaimSetup, complete_claim, link_of, random_token
from zaikio_ops.claims import generate_person_claims

LANGUAGES = {
    # Accept-Language header, expected <html lang>, landing title, unknown-link text, success title
    "de": ("de-DE,de;q=0.9,en;q=0.5", "de", "Konto mit Zaikio verknüpfen", "Dieser Link ist unbekannt.",
           "Verknüpfung erfolgreich"),
    "en": ("en-GB,en;q=0.8", "en", "Connect your account to Zaikio", "This link is not known.",
           "Account connected"),
}
URL_PATTERN = re.compile(r"https?://[^\s\"'<>]+")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def foreign_urls(html: str, setup: ClaimSetup) -> list[str]:
    """Return the absolute URLs in ``html`` that point neither to the claim service nor to the Hub."""
    allowed = {origin(setup.service_url), origin(setup.hub_url)}
    return [url for url in URL_PATTERN.findall(html) if origin(url) not in allowed]


def assert_self_contained(response: httpx.Response, setup: ClaimSetup) -> None:
    assert response.headers["referrer-policy"] == "no-referrer"
    assert foreign_urls(response.text, setup) == []
    assert "<script" not in response.text
    assert " src=" not in response.text


@pytest.mark.parametrize("language", ["de", "en"])
def test_landing_page_language(claim_setup: ClaimSetup, language: str) -> None:
    header, html_lang, title, _, _ = LANGUAGES[language]
    links = generate_person_claims(claim_setup.config)

    with httpx.Client(headers={"Accept-Language": header}) as browser:
        page = browser.get(link_of(links, 2))

    assert page.status_code == 200
    assert f'<html lang="{html_lang}">' in page.text
    assert title in page.text
    assert_self_contained(page, claim_setup)


@pytest.mark.parametrize("language", ["de", "en"])
def test_error_page_language(claim_setup: ClaimSetup, language: str) -> None:
    header, html_lang, _, unknown, _ = LANGUAGES[language]

    with httpx.Client(headers={"Accept-Language": header}) as browser:
        page = browser.get(f"{claim_setup.service_url}/claims/{random_token()}")

    assert page.status_code == 404
    assert f'<html lang="{html_lang}">' in page.text
    assert unknown in page.text
    assert_self_contained(page, claim_setup)


@pytest.mark.parametrize("link_style", ["app", "hub"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_success_page_language(claim_setup: ClaimSetup, language: str) -> None:
    header, html_lang, _, _, title = LANGUAGES[language]
    links = generate_person_claims(claim_setup.config)

    with httpx.Client(headers={"Accept-Language": header}, timeout=10.0) as browser:
        page = complete_claim(browser, link_of(links, 1), claim_setup.link_style, "anna@example.com")

    assert page.status_code == 200
    assert f'<html lang="{html_lang}">' in page.text
    assert title in page.text
    assert_self_contained(page, claim_setup)


def test_lang_parameter_wins(claim_setup: ClaimSetup) -> None:
    with httpx.Client(headers={"Accept-Language": "en"}) as browser:
        page = browser.get(f"{claim_setup.service_url}/claims/{random_token()}", params={"lang": "de"})

    assert '<html lang="de">' in page.text
    assert "Dieser Link ist unbekannt." in page.text


def test_unknown_language_falls_back(claim_setup: ClaimSetup) -> None:
    with httpx.Client(headers={"Accept-Language": "fr-FR,fr;q=0.9"}) as browser:
        page = browser.get(f"{claim_setup.service_url}/claims/{random_token()}")

    assert '<html lang="en">' in page.text


def test_pages_not_cached(claim_setup: ClaimSetup) -> None:
    links = generate_person_claims(claim_setup.config)

    with httpx.Client() as browser:
        page = browser.get(link_of(links, 2))

    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
