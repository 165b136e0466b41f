"""The web pages' message catalogs: up to date with the sources, complete in Chinese, and every
translation keeps the placeholders of its message."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from serving.web.i18n import CATALOG_DIR, LANGUAGES, po_path, translations

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    """Message ids the pages and their Python code use, extracted as `pybabel extract` does."""
    found = set()
    method_map = [("**.py", "python"), ("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
    for folder in ("serving/web", "serving/templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, options, keywords={"_": None, "gettext": (2,), "N_": None}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_template_is_up_to_date_with_the_sources():
    pot = {m.id for m in catalog(CATALOG_DIR / "messages.pot") if m.id}
    assert source_messages() == pot, "run the pybabel commands in serving/i18n/babel.cfg"


def test_every_language_has_every_message_and_chinese_is_complete():
    pot = {m.id for m in catalog(CATALOG_DIR / "messages.pot") if m.id}
    for language in LANGUAGES:
        messages = {m.id: m.string for m in catalog(po_path(language)) if m.id}
        assert set(messages) == pot, language
        if language == "zh_CN":
            missing = [k for k, v in messages.items() if not v]
            assert not missing, f"no Chinese for {missing[:5]}"
            assert all(re.search(r"[\u4e00-\u9fff]", v) for v in messages.values() if not PLACEHOLDER.fullmatch(v))


def test_translations_keep_their_placeholders():
    for language in LANGUAGES:
        for m in catalog(po_path(language)):
            if m.id and m.string:
                assert sorted(PLACEHOLDER.findall(m.id)) == sorted(PLACEHOLDER.findall(m.string)), m.id


def test_compiled_catalogs_translate():
    assert translations("zh_CN").gettext("Watch list") == "监测名单"
    assert translations("en").gettext("Watch list") == "Watch list"
