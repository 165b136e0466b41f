"""The case's stages, steps and clocks: the rules live in ``serving.core.case_lifecycle`` (pure, at
the bottom of serving, so the simulated officers in ``serving.jobs`` take their cases through the
same rules as the pages); the cases package and its callers read them under this name."""

from serving.core.case_lifecycle import *  # noqa: F403 (the public rules, re-exported)
from serving.core.case_lifecycle import __all__  # noqa: F401
