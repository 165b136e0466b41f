"""Message catalogs: Chinese (default) and English, loaded from the Babel .po files at startup.

Message ids are English; ``zh_CN.po`` holds the Chinese text and ``en.po`` the English text.
Compiling the .po into an in-memory .mo at startup means no build step can be forgotten, and a
missing translation falls back to the English id rather than failing.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOG_DIR = Path(__file__).resolve().parent.parent / "i18n"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def normalise_language(value: str | None) -> str:
    """Map a cookie or query value to a supported language (Chinese when unknown)."""
    if not value:
        return DEFAULT_LANGUAGE
    value = value.replace("-", "_")
    if value in LANGUAGES:
        return value
    if value.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def po_path(language: str) -> Path:
    """Where a language's catalog lives."""
    return CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> Translations:
    """The gettext translations of one language, compiled from its .po file."""
    with po_path(language).open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(language: str, message: str) -> str:
    """Translate one message id (used by Python code that builds page text)."""
    return translations(normalise_language(language)).gettext(message)
