"""GET /model: the champion the API explains with (version, metrics)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from serving.access import auth
from serving.api.deps import require
from serving.api.schemas import ModelOut

router = APIRouter(tags=["model"])


@router.get("/model", response_model=ModelOut)
def model(request: Request, who: Annotated[auth.Principal, Depends(require("model:read"))]):
    """当前模型 / the champion model: version and evaluation metrics."""
    settings = request.app.state.settings
    champion = getattr(request.app.state, "champion", None)
    if champion is None:
        return ModelOut(name=settings.model_name, alias=settings.model_alias, loaded=False,
                        message=getattr(request.app.state, "champion_error", None))
    return ModelOut(name=settings.model_name, alias=settings.model_alias, loaded=True,
                    version=str(champion.version), run_id=str(champion.run_id), metrics=dict(champion.metrics or {}))
