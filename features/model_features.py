"""The model's feature names: the frame's numeric columns and the coded attributes it sees as
categories.

Kept apart from the feature builder (``features.transformer``) so that what only needs the names
(the drift monitor, the stored samples, a user's command) does not import scikit-learn.
"""

from __future__ import annotations

from features import vocabulary as voc
from features.household_frame import FRAME_COLUMNS

# Coded household attributes the model sees as categories (fixed vocabularies from the contract).
CATEGORICAL_FEATURES: dict[str, tuple[str, ...]] = {
    "category": tuple(voc.HOUSEHOLD_CATEGORY),
    "policy_status": tuple(voc.POLICY_STATUS),
    "social_assistance": tuple(voc.SOCIAL_ASSISTANCE),
}
NUMERIC_FEATURES: tuple[str, ...] = tuple(FRAME_COLUMNS)
MODEL_FEATURES: tuple[str, ...] = NUMERIC_FEATURES + tuple(CATEGORICAL_FEATURES)
