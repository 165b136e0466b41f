"""The county's geography: townships, villages and each village's industry and hazards."""

from __future__ import annotations

import numpy as np

TOWNSHIPS = ["古邵镇", "西岗镇", "白马镇", "金塘镇", "青山镇", "龙潭镇", "桃源镇"]
MINORITY_TOWNSHIP = "麻溪苗族乡"
# Townships that never appear in the history (the new-township drift scenario draws from here).
SPARE_TOWNSHIPS = ["新河镇", "东坪镇", "云溪乡"]
_V1 = list("上下东西南北大小新老高石金龙凤竹梅杨柳桥")
_V2 = list("岭坪溪塘坡湾冲田坝岗庄寨坳垅源")


def township_count(n_households: int) -> int:
    """5 townships for small counties up to 8 for large ones (one of them ethnic-minority)."""
    return int(np.clip(5 + n_households // 8000, 5, 8))


def build_layout(n_households: int, rng: np.random.Generator, minority: bool = True,
                 names: list[str] | None = None) -> dict:
    """Townships, villages and village traits.

    Returns a dict with township names, village names, the township of each village and village
    traits: industry (an active collective industry project), industry_quality (latent: a poor
    project fails more often), flood_risk and drought_risk (latent multipliers), remoteness
    (latent: lowers local work and farm prices), and the number of villages per township.
    """
    n_t = township_count(n_households)
    if names is None:
        names = TOWNSHIPS[: n_t - 1] + [MINORITY_TOWNSHIP] if minority else TOWNSHIPS[:n_t]
    n_t = len(names)
    per = np.clip(np.round(n_households / n_t / 170), 8, 20).astype(int)
    counts = np.clip(rng.integers(per - 2, per + 3, n_t), 8, 20)
    township = np.repeat(np.arange(n_t), counts)
    n_v = len(township)
    pairs = rng.permutation(len(_V1) * len(_V2))
    if n_v > len(pairs):
        raise ValueError("too many villages for the name list")
    village_names = [f"{_V1[p // len(_V2)]}{_V2[p % len(_V2)]}村" for p in pairs[:n_v]]
    minority_t = names.index(MINORITY_TOWNSHIP) if MINORITY_TOWNSHIP in names else -1
    remoteness = rng.beta(2, 3, n_v) + np.where(township == minority_t, 0.25, 0.0)
    return {
        "township_names": list(names),
        "village_names": village_names,
        "village_township": township,
        "minority_township": minority_t,
        "industry": rng.random(n_v) < 0.6,
        "industry_quality": rng.normal(0, 1, n_v),
        "flood_risk": rng.lognormal(0, 0.7, n_v) * np.where(rng.random(n_t) < 0.4, 1.8, 0.7)[township],
        "drought_risk": rng.lognormal(0, 0.6, n_v),
        "remoteness": remoteness,
    }
