"""All visit sheets of a township and week as one PDF (rendered by ``serving.visit_sheets``)."""

from __future__ import annotations
