"""Synthetic direct identifiers: Chinese names, 18-digit ID numbers, mobile phone numbers.

They look real (the ID check digit follows GB 11643-1999 and encodes birth date and sex) but
belong to nobody: surnames and given-name characters are drawn from short common lists.
"""

from __future__ import annotations

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈")
MIAO_SURNAMES = list("龙吴杨石麻滕田侯")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰春梅建国志红德福生海云山林清文金玲凤成友光荣")
AREA_CODE = "431128"  # a six-digit county division code prefix (synthetic county)
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))


def names(surname_idx: np.ndarray, given_a: np.ndarray, given_b: np.ndarray, miao: np.ndarray) -> np.ndarray:
    """Names from integer draws; ``given_b < 0`` means a one-character given name."""
    sur = np.where(
        miao,
        np.array(MIAO_SURNAMES)[surname_idx % len(MIAO_SURNAMES)],
        np.array(SURNAMES)[surname_idx % len(SURNAMES)],
    )
    g = np.array(GIVEN)
    first = g[given_a % len(g)]
    second = np.where(given_b >= 0, g[np.abs(given_b) % len(g)], "")
    return np.char.add(np.char.add(sur.astype(str), first.astype(str)), second.astype(str))


def id_numbers(birth: np.ndarray, female: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers: area code, birth date, sequence (odd for men), check digit.

    Args:
        birth: datetime64[D] birth dates.
        female: bool array.
        serial: non-negative integers making people born the same day distinct.
    """
    ymd = np.char.replace(np.datetime_as_string(birth.astype("datetime64[D]")), "-", "")
    seq = (2 * (np.asarray(serial) % 499) + 1 + np.asarray(female, dtype=np.int64)).astype(np.int64)
    seq_s = np.char.zfill(seq.astype(str), 3)
    body = np.char.add(np.char.add(AREA_CODE, ymd), seq_s)
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - 48
    check = _CHECK[(digits.astype(np.int64) @ _WEIGHTS) % 11]
    return np.char.add(body, check)


def phones(draws: np.ndarray) -> np.ndarray:
    """Mobile numbers 1[3-9]x xxxx xxxx from non-negative integer draws."""
    prefix = np.array(["13", "15", "17", "18", "19"])[draws % 5]
    rest = np.char.zfill(((draws // 5) % 1_000_000_000).astype(str), 9)
    return np.char.add(prefix, rest)


def check_digit_ok(id_number: str) -> bool:
    """Whether an 18-digit ID number's last character is its valid check digit."""
    digits = np.array([int(c) for c in id_number[:17]])
    return _CHECK[int(digits @ _WEIGHTS) % 11] == id_number[17]
