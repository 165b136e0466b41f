"""Are the model's libraries the ones it was trained with?

A LightGBM or scikit-learn upgrade can change how a pickled model loads or predicts (a calibrator's
attribute renamed, a tree traversal fixed) without any error. The training run records the
versions (MLflow run params ``library.*`` and the model's pinned requirements); the weekly job
compares them with what is installed and says which differ. A difference is not a failure (the
versions in ``constraints.txt`` are what CI and the demo run), but an operator should know before
trusting the week: re-run the training's tests or retrain under the new versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.alerts import county_alert


def compare_versions(trained: Mapping[str, str] | None, installed: Mapping[str, str | None], *,
                     week: str | None = None) -> dict[str, Any]:
    """Which model libraries differ from the training run's (``checked`` False without a record).

    Returns:
        ``checked``, ``trained``, ``installed``, ``differ`` (name, trained, installed) and
        ``alerts`` (one, naming every difference).
    """
    if not trained:
        return {"checked": False, "trained": None, "installed": dict(installed), "differ": [], "alerts": []}
    differ = [{"package": name, "trained": trained[name], "installed": installed.get(name)}
              for name in installed if name in trained and trained[name] != installed.get(name)]
    alerts = []
    if differ:
        listed = ", ".join(f"{d['package']} {d['trained']} -> {d['installed'] or '未安装/missing'}" for d in differ)
        alerts.append(county_alert(
            "library_versions", week, f"模型所用软件库的版本与训练时不同：{listed}；请重新运行测试或在新版本下重新训练",
            f"the model's libraries differ from the versions it was trained with: {listed}; "
            "re-run the tests or retrain under the new versions"))
    return {"checked": True, "trained": dict(trained), "installed": dict(installed), "differ": differ,
            "alerts": alerts}
