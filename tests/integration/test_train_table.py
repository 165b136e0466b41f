"""`fanpin train --table` on a table fanpin has never seen: a survey-like CSV with Chinese headers,
yes/no words, Chinese categories, an ordinal target and direct identifiers that must never be used
or logged."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from typer.testing import CliRunner

from serving.cli import app

SURNAMES = list("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂")


def survey(n: int = 1500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9.3, 0.5, n)
    illness = rng.random(n) < 0.25
    elderly = rng.integers(0, 3, n)
    township = rng.choice(["古邵镇", "西岗镇", "白马镇", "麻溪苗族乡"], n)
    housing = rng.choice(["A级（安全）", "B级（基本安全）", "C级（局部危房）"], n, p=[0.6, 0.3, 0.1])
    logit = -1.0 - 1.6 * (np.log(income) - 9.3) / 0.5 + 1.2 * illness + 0.4 * elderly \
        + 0.8 * (housing == "C级（局部危房）") + rng.normal(0, 0.8, n)
    level = np.where(logit > 1.2, "高", np.where(logit > -0.3, "中", "低"))
    names = [SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13) % len(GIVEN)] for i in range(n)]
    return pd.DataFrame({
        "户编号": [f"S{i:05d}" for i in range(n)],
        "户主姓名": names,
        "身份证号": [f"43112819{60 + i % 40:02d}0101{i % 1000:03d}{i % 10}" for i in range(n)],
        "联系电话": [f"139{i:08d}" for i in range(n)],
        "调查年份": rng.choice([2021, 2022, 2023, 2024, 2025], n),
        "乡镇": township,
        "家庭人口": rng.integers(1, 7, n),
        "人均纯收入": income.round(0),
        "是否有大病患者": np.where(illness, "是", "否"),
        "老人数": elderly,
        "住房等级": housing,
        "备注": [f"走访记录 {i} 号" for i in range(n)],
        "返贫风险等级": level,
    })


def _train(args: list[str]) -> dict:
    out = CliRunner().invoke(app, ["train", *args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_train_table_on_an_unseen_survey(store, tmp_path):
    table = survey()
    path = tmp_path / "入户调查.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    result = _train(["--table", str(path), "--target", "返贫风险等级", "--id", "户编号", "--name", "survey-risk"])
    assert result["model_name"] == "survey-risk" and result["model_version"] == "1"
    assert result["split"] == "stratified" and result["cv_auc_mean"] > 0.7
    assert "高" in result["target"] and "top class" in result["target"]
    assert result["auc"] > 0.75 and result["logistic_auc"] > 0.6
    assert result["rules_auc"] is None  # the contract fields the rules need are absent
    assert result["alias"] == "champion", result["alias_reason"]
    # feature value is reported for a researcher's table too (no household frame: no frame cost)
    assert result["no_contribution_threshold_auc_drop"] == 0.0005 and "frame_cost_seconds" not in result
    assert "人均纯收入" not in result["features_without_contribution"]
    # 是/否, a Chinese category and numbers are features; identifiers and free text are not.
    model = mlflow.sklearn.load_model("models:/survey-risk@champion")
    used = set(model.builder_.numeric_) | set(model.builder_.categories_)
    assert {"人均纯收入", "是否有大病患者", "乡镇", "住房等级", "家庭人口"} <= used
    assert not used & {"户编号", "户主姓名", "身份证号", "联系电话", "备注", "返贫风险等级"}
    assert set(model.builder_.categories_["乡镇"]) == {"古邵镇", "西岗镇", "白马镇", "麻溪苗族乡"}
    pyfunc = mlflow.pyfunc.load_model("models:/survey-risk@champion")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(table.head(50))), model.predict_proba(table.head(50)))

    run_dir = Path(mlflow.artifacts.download_artifacts(run_id=result["run_id"], dst_path=str(tmp_path / "run")))
    model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri="models:/survey-risk/1",
                                                         dst_path=str(tmp_path / "model")))
    blob = b"\n".join(p.read_bytes() for d in (run_dir, model_dir) for p in d.rglob("*") if p.is_file())
    secrets = set(table["户主姓名"]) | set(table["身份证号"]) | set(table["联系电话"])
    assert not [s for s in secrets if s.encode("utf-8") in blob]


def test_train_table_with_a_time_column_and_a_mapping(store, tmp_path):
    table = survey(seed=12)
    table["返贫"] = np.where(table["返贫风险等级"] == "高", "是", "否")
    path = tmp_path / "survey.xlsx"
    table.drop(columns=["返贫风险等级"]).to_excel(path, index=False)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("乡镇: township\n家庭人口: household_size\n", encoding="utf-8")
    result = _train(["--table", str(path), "--target", "返贫", "--time", "调查年份", "--mapping", str(mapping),
                     "--name", "survey-risk"])
    assert result["split"] == "time" and result["target"].endswith("是/yes = 1")
    assert result["model_version"] == "2" and result["auc"] > 0.7
    model = mlflow.sklearn.load_model(f"models:/survey-risk/{result['model_version']}")
    assert "township" in model.builder_.categories_ and "household_size" in model.builder_.numeric_
    assert "调查年份" not in model.builder_.numeric_
