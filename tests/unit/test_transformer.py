import numpy as np
import pandas as pd

from features.household_frame import build_household_frame
from features.policy import load_policy
from features.transformer import MODEL_FEATURES, FeatureBuilder
from tests.tables import tiny_tables


def test_builder_types_features_and_ignores_identity():
    frame = build_household_frame(tiny_tables(), "2024-05-01", load_policy())
    builder = FeatureBuilder().fit(frame)
    X = builder.transform(frame)
    assert list(X.columns) == list(MODEL_FEATURES)
    assert "household_id" not in X.columns and "township" not in X.columns
    renamed = frame.assign(household_id=["X1", "X2"], township="别的镇", village="别的村")
    pd.testing.assert_frame_equal(X, builder.transform(renamed))


def test_unseen_category_becomes_missing_not_an_error():
    frame = build_household_frame(tiny_tables(), "2024-05-01", load_policy())
    builder = FeatureBuilder().fit(frame)
    X = builder.transform(frame.assign(category=["exited", "新类型"]))
    assert X["category"].iloc[0] == "exited" and pd.isna(X["category"].iloc[1])
    assert X.select_dtypes("number").dtypes.eq(np.float64).all()
