"""A week is parsed once, at the edge (issue 27): below the CLI, the API routes, the pages and the
jobs' entries, every function takes a ``features.weeks.Week``, never a string to normalise again."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

from features.weeks import Week

# The packages below the edge whose functions may receive a week.
BELOW_THE_EDGE = ("serving.jobs", "serving.store", "serving.weekly", "serving.documents", "serving.reads",
                  "serving.cases", "serving.core")
# The jobs' entries: called by commands, the demo and tests with what a person typed; each parses
# the week once (``serving.jobs.week_run.as_week`` / ``Week.parse``) before passing it down.
ENTRIES = {
    "serving.jobs.weekly.run_week",
    "serving.jobs.spark_weekly.run_week_spark",
    "serving.jobs.drift.drift_data",
    "serving.jobs.household_explanation.explain_household",
    "serving.jobs.week_run.as_week",
}
_WEEK_PARAM = re.compile(r"(^|_)week$")


def _modules():
    for name in BELOW_THE_EDGE:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            # The store's tables keep the label as text (a column type, not a function's input).
            if ".migrations" in info.name or ".store.models" in info.name \
                    or info.name.endswith("spark_weekly") and not _has_spark():
                continue
            yield importlib.import_module(info.name)


def _has_spark() -> bool:
    return importlib.util.find_spec("pyspark") is not None


def _functions(module):
    for _, obj in inspect.getmembers(module):
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            yield f"{module.__name__}.{obj.__qualname__}", obj
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for _, method in inspect.getmembers(obj, inspect.isfunction):
                if method.__qualname__.startswith(obj.__qualname__ + "."):
                    yield f"{module.__name__}.{method.__qualname__}", method
            for field, annotation in getattr(obj, "__annotations__", {}).items():
                if _WEEK_PARAM.search(field):
                    yield f"{module.__name__}.{obj.__qualname__}.{field}", annotation


def week_parameters_typed_as_text() -> list[str]:
    """Every parameter (or dataclass field) named ``week``/``*_week`` below the edge whose
    annotation lets a plain string in (``str``, ``str | None``, a missing annotation)."""
    found = []
    for module in _modules():
        for name, obj in _functions(module):
            if name in ENTRIES:
                continue
            if not callable(obj) or isinstance(obj, str):
                annotations = {name.rsplit(".", 1)[1]: obj}
            else:
                annotations = {p.name: p.annotation for p in inspect.signature(obj).parameters.values()
                               if _WEEK_PARAM.search(p.name)}
                name = name + "()"
            for param, annotation in annotations.items():
                text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
                if annotation is inspect.Parameter.empty or re.search(r"\bstr\b", str(text)) or "Week" not in str(text):
                    found.append(f"{name}: {param}: {text}")
    return found


def test_no_function_below_the_edge_takes_a_week_as_text():
    assert week_parameters_typed_as_text() == []


def test_the_walk_sees_week_parameters():
    # The walk itself must see the week parameters it judges (a walk that found none would pass).
    seen = [name for module in _modules() for name, obj in _functions(module)
            if callable(obj) and not isinstance(obj, str)
            and any(_WEEK_PARAM.search(p) for p in inspect.signature(obj).parameters)]
    assert "serving.store.publishing.publish" in seen and "serving.store.lease.take" in seen
    assert len(seen) >= 15


@pytest.mark.parametrize("typed", ["２０２５-W48", " 2025-w48 ", "2025W48", "2025 - ｗ４８"])
def test_a_week_is_parsed_once_into_its_label_cutoff_and_folder(typed, tmp_path):
    week = Week.parse(typed)
    assert week == "2025-W48" and week.label == "2025-W48" and type(week.label) is str
    assert str(week.cutoff.date()) == "2025-11-30" and str(week.monday) == "2025-11-24"
    assert Week(week) is week  # parsing a Week again is the same value, not a second parse
    (tmp_path / "exports" / "2025-W48").mkdir(parents=True)
    assert week.export_folder(tmp_path) == tmp_path / "exports" / "2025-W48"


@pytest.mark.parametrize("bad", ["2025-W54", "W48", "2025-W4x", ""])
def test_a_week_that_is_not_one_is_refused_in_one_line(bad):
    with pytest.raises(ValueError, match="YYYY-Www"):
        Week.parse(bad)
