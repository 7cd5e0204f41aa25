"""The web app's pieces that need no browser: its words in both languages, its pages all
registered, where signing in may send a person."""
import re
from pathlib import Path

import pytest

from services.gateway import pages, webtext
from services.gateway.service import GatewayService

TEMPLATES = Path(pages.__file__).parent / "templates"
WORD_TABLES = (webtext.SEVERITY_WORDS, webtext.STATUS_WORDS, webtext.STATUS_HINTS,
               webtext.TASK_WORDS, webtext.SORT_WORDS, webtext.DONE_WORDS, webtext.ROLE_WORDS,
               webtext.ACTOR_DONE_WORDS, webtext.EVENT_WORDS, webtext.SETTINGS_DONE_WORDS)


def template_texts():
    for path in TEMPLATES.glob("*.html"):
        for match in re.finditer(r'_\((["\'])(.+?)\1\)', path.read_text()):
            yield path.name, match.group(2)


def test_every_text_of_the_pages_has_its_english():
    texts = {words for _name, words in template_texts()}
    texts |= {words for table in WORD_TABLES for words in table.values()}
    assert len(texts) > 100
    missing = sorted(texts - set(webtext.ENGLISH))
    assert not missing, f"no English for: {missing}"
    unused = sorted(set(webtext.ENGLISH) - texts)
    assert not unused, f"English for texts no page shows: {unused}"


def test_the_english_page_reads_english():
    english = webtext.translator("en")
    assert english("Kirim laporan") == "Send the report"
    assert webtext.translator("id")("Kirim laporan") == "Kirim laporan"


def test_every_page_method_is_the_gateways_own():
    """A method of the gateway with the same name would hide a page (it did: /inbox)."""
    hidden = [name for name, method in vars(pages.WebPages).items()
              if callable(method) and getattr(GatewayService, name) is not method]
    assert not hidden


@pytest.mark.parametrize("target,kept", [
    ("/cases/JBT-1", "/cases/JBT-1"), ("/board?status=routed", "/board?status=routed"),
    ("https://evil.example/", None), ("//evil.example/", None), ("evil", None), ("", None),
    ("/\\evil.example", None), ("/cases/\\x", None),
])
def test_signing_in_returns_only_to_a_page_of_this_site(target, kept):
    assert pages.safe_next(target) == kept
