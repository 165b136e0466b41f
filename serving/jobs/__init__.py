"""Jobs: the only place that orchestrates I/O (files, the model registry, the store).

A CLI command parses its arguments and calls one job; a job reads its inputs, calls the pure
core (``serving.core``, ``features``, ``models``, ``monitoring``) and writes its outputs.

May import: ``serving.access``, ``serving.weekly``, ``serving.documents``, ``serving.store``,
``serving.core``, ``serving.tracking``, ``serving.settings``, ``serving.output``; never reads,
cases, the API, the pages or the commands.
"""
