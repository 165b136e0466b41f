"""Files made for people: what officers download, print and post.

- ``workbook``: the one .xlsx builder (every Excel download goes through it) and the API's
  watch-list columns;
- ``formulas``: formula escaping of every cell a spreadsheet could run (OWASP CSV injection);
- ``visit_sheets``: printable visit sheets (HTML -> PDF with WeasyPrint);
- ``pdf_queue``: PDFs rendered off the request thread, one at a time, kept as private files.

May import: ``serving.store`` and the layers under it, ``serving.private_files``,
``serving.settings``; never the API, the pages, the jobs, cases or access (they import this).
"""
