"""The household frame's schema (features.frame_schema) is what build_household_frame makes, and
its JSON round trip (the weekly job's stored facts) gives the model the same numbers back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import frame_schema
from features.household_frame import build_household_frame
from features.policy import load_policy
from tests.tables import tiny_tables


def _frame() -> pd.DataFrame:
    return build_household_frame(tiny_tables(), "2025-06-01", load_policy())


def test_the_built_frame_satisfies_its_schema_column_for_column():
    frame = _frame()
    frame_schema.household_frame_schema().validate(frame)
    assert list(frame.columns) == frame_schema.columns()


def test_a_wrong_type_is_refused():
    import pandera.errors

    frame = _frame()
    frame["safe_water"] = frame["safe_water"].map({True: "yes", False: "no"})
    try:
        frame_schema.household_frame_schema().validate(frame)
    except pandera.errors.SchemaError as error:
        assert "safe_water" in str(error)
    else:
        raise AssertionError("a text safe_water column passed the schema")


def test_facts_round_trip_keeps_every_value_and_kind():
    from serving.weekly.explaining import facts_of

    frame = _frame()
    rebuilt = frame_schema.frame_from_facts(facts_of(frame))
    assert list(rebuilt.columns) == frame_schema.columns()
    for column in frame_schema.columns():
        k = frame_schema.kind(column)
        if k in (frame_schema.COUNT, frame_schema.NUMBER):
            np.testing.assert_allclose(rebuilt[column].to_numpy(dtype="float64"),
                                       frame[column].to_numpy(dtype="float64"), rtol=1e-12, equal_nan=True)
        elif k == frame_schema.DATE:
            assert (rebuilt[column].dt.date == frame[column].dt.date).all()
        else:
            assert rebuilt[column].astype(str).tolist() == frame[column].astype(str).tolist(), column


def test_every_column_has_labels():
    for column in frame_schema.columns():
        zh, en = frame_schema.label(column)
        assert zh != column and en, column
