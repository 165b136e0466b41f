"""`fanpin explain`: why one household got its score, and what help fits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.output import emit, fail

JSON_KEYS = ("household_id", "probability", "level", "base_value", "contributions", "additivity_error", "reasons",
             "protective", "rule_triggers", "measures")


def _summary(result: dict, lang: str) -> str:
    zh = lang == "zh"
    head = (f"{result['household_id']} · {result['week']} · 风险{result['level_zh']} {result['probability']:.1%}"
            if zh else f"{result['household_id']} · {result['week']} · {result['level']} risk {result['probability']:.1%}")
    lines = [head, "提高风险的原因：" if zh else "Raising the risk:"]
    lines += [f"  {i}. {r['text_zh' if zh else 'text_en']} ({r['contribution']:+.2f})" for i, r in enumerate(result["reasons"], 1)]
    lines.append("降低风险的因素：" if zh else "Lowering the risk:")
    lines += [f"  - {r['text_zh' if zh else 'text_en']} ({r['contribution']:+.2f})" for r in result["protective"]]
    lines.append("符合的监测标准：" if zh else "Official criteria met:")
    lines += [f"  - {t['zh' if zh else 'en']}" for t in result["rule_triggers"]] or ["  -"]
    lines.append("建议帮扶措施：" if zh else "Suggested measures:")
    lines += [f"  - {m['programme_zh']}：{m['zh']}" if zh else f"  - {m['programme_en']}: {m['en']}"
              for m in result["measures"]]
    return "\n".join(lines)


def explain(
    data: Annotated[Path, typer.Option("--data", help="县文件夹 / county folder")],
    household: Annotated[str, typer.Option("--household", help="户编号 / household ID")],
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W48 / ISO week")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en / zh or en")] = "zh",
    model_uri: Annotated[str | None, typer.Option("--model-uri", help="模型 URI 或路径（默认冠军模型）/ model URI or path")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """解释一户的风险 / explain one household's risk."""
    from serving.jobs.household_explanation import explain_household
    from serving.settings import get_settings

    if lang not in ("zh", "en"):
        fail("--lang must be zh or en / --lang 只能是 zh 或 en")
    try:
        result = explain_household(data, household, get_settings(), week=week, model_uri=model_uri)
    except LookupError as error:
        fail(str(error))
        return
    except Exception as error:
        from features.reading import ContractError
        from serving.jobs.week_run import WeeklyError

        if isinstance(error, (ContractError, WeeklyError)):
            fail(str(error))
            return
        raise
    out = {k: result[k] for k in JSON_KEYS} | {"week": result["week"], "level_zh": result["level_zh"],
                                               "concept_contributions": result["concept_contributions"],
                                               "change": result["change"], "model": result["model"]}
    emit(out, as_json, summary=_summary(result, lang))
