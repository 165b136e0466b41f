"""User names as stored and compared: one spelling per person, no look-alikes (issue 30)."""

from __future__ import annotations

# Scripts a user name may use: Latin, Han and the common ones (digits, ., _, -). A Cyrillic "а"
# looks like a Latin "a": "аdmin1" would be a second admin that reads as the first.
NAME_SCRIPTS = frozenset({"LATIN", "HAN", "COMMON"})


def normalise_username(username: str) -> str:
    """The user name as stored and compared: NFKC (full-width letters and digits become ASCII),
    trimmed. Refuses (ValueError, one line) empty or over-long names, control characters, and
    scripts outside ``NAME_SCRIPTS`` or a mix that Unicode's confusables data calls dangerous."""
    import unicodedata

    from confusable_homoglyphs import categories, confusables

    name = unicodedata.normalize("NFKC", str(username)).strip()
    if not name or len(name) > 64 or any(unicodedata.category(c).startswith(("C", "Z")) and c != " " for c in name):
        raise ValueError(f"user name must be 1-64 printable characters / 用户名应为1-64个可见字符: {username!r}")
    scripts = categories.unique_aliases(name)
    if not scripts <= NAME_SCRIPTS or confusables.is_dangerous(name, preferred_aliases=["latin", "common"]):
        raise ValueError(f"user name {name!r} mixes look-alike scripts ({', '.join(sorted(scripts))}); use Latin "
                         f"letters, digits or Chinese characters / 用户名含易混淆字符")
    return name
