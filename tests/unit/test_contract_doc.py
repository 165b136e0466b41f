"""docs/data-contract.md is generated from the schemas and must be up to date."""

from pathlib import Path

from features import contract
from features.contract_document import contract_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_committed_contract_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == contract_markdown(), (
        "docs/data-contract.md is stale: run `fanpin contract-doc --out docs/data-contract.md`"
    )


def test_contract_doc_lists_every_column_label_and_allowed_value():
    text = contract_markdown()
    for table in contract.TABLES:
        for f in contract.fields(table):
            assert f"| `{f.name}` | {f.zh} |" in text
            for code, label in (f.allowed or {}).items():
                assert f"- `{code}`: {label}" in text
    assert text.count("**sensitive**") == len(
        [f for t in contract.TABLES for f in contract.fields(t) if f.sensitive]
    )
