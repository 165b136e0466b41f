"""Masking by content for text that people print, post or read: names and free text.

The registry's 户主姓名 is typed by clerks, and a clerk types what helps them: "余国超431128196306195294",
"冯娜 13912345678", "陈志福（重度残疾）". A village notice posted on a wall must show the name and
nothing else, so ``clean_name`` keeps the name and cuts ID-number and phone look-alikes, anything
in brackets and health or disability words; it also says whether it cut anything, so the case can
be flagged for a clerk to correct the registry. Free text (case notes, a lead's source detail,
feedback notes) is written for the office but read through the API by every role, so
``mask_free_text`` applies the quarantine lines' content rule to it (``features.masking.shown``,
the one place that rule lives): no ID number whole, no phone number, no long run of digits.
Names get ``clean_name``, which a quarantine line never needs (a name column is masked whole there).
"""

from __future__ import annotations

import re
import unicodedata

from features.identifiers import ID_NUMBER, PARTIAL_ID, PHONE, _replace
from features.masking import shown

# Words that name an illness, a disability or a treatment (the health detail a notice must not
# carry). A name never contains them in practice; when one does, a person checks the registry.
HEALTH_WORDS = (
    "残疾", "残障", "重残", "重度", "轻度", "一级", "二级", "三级", "四级", "肢残", "智残", "精神", "智力", "视力",
    "听力", "言语", "失明", "盲人", "聋哑", "瘫痪", "偏瘫", "截瘫", "尿毒症", "透析", "癌", "肿瘤", "白血病",
    "重病", "大病", "慢性病", "住院", "病", "患", "低保", "特困", "五保",
)
_HEALTH = re.compile("|".join(map(re.escape, sorted(HEALTH_WORDS, key=len, reverse=True))))
# Anything in brackets is a remark, not part of the name (after NFKC full-width brackets are ASCII).
_BRACKETED = re.compile(r"[(\[{【〔<《][^)\]}】〕>》]*[)\]}】〕>》]?")
# What a Chinese name (or a minority name with a middle dot, or a Latin name) is made of.
_NAME_CHARS = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z·• ]")
_SPACES = re.compile(r"\s+")
# An ID number, a partly masked one, or a phone (``features.identifiers``' patterns).
_LOOK_ALIKES = re.compile(f"{ID_NUMBER}|{PARTIAL_ID}|{PHONE}")


def mask_free_text(text: str | None) -> str | None:
    """Free text with every ID-number look-alike cut to its first 6 and last 4 characters, every
    phone look-alike and every run of 12+ digits starred out, as in the quarantine lines.
    Full-width digits count."""
    if not text:
        return text
    return shown(text)


def clean_name(text: str | None) -> tuple[str, bool]:
    """(the name as a notice may print it, whether anything was cut).

    ID-number and phone look-alikes, bracketed remarks, health and disability words, digits and
    punctuation are cut; "陈志福（重度残疾）" -> ("陈志福", True), "张三" -> ("张三", False).
    """
    if text is None:
        return "", False
    original = str(text)
    folded = unicodedata.normalize("NFKC", original)
    cut = _replace(folded, _LOOK_ALIKES, lambda m: " ")
    cut = _BRACKETED.sub(" ", cut)
    # A remark after a space goes whole when it names a condition ("赵六 肺癌": not "赵六肺").
    words = cut.split()
    cut = " ".join(words[:1] + [w for w in words[1:] if not _HEALTH.search(w)])
    cut = _HEALTH.sub(" ", cut)
    cut = _NAME_CHARS.sub(" ", cut)
    name = _SPACES.sub(" ", cut).strip(" ·•")
    # A Han name has no inner spaces; a Latin one keeps them.
    if re.fullmatch(r"[\u3400-\u9fff\uf900-\ufaff· ]+", name):
        name = name.replace(" ", "")
    return name, name != _SPACES.sub(" ", folded).strip()


def name_needs_fix(text: str | None) -> bool:
    """Whether ``clean_name`` would cut anything from this name (the case is flagged for a clerk)."""
    return clean_name(text)[1]
