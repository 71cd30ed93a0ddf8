"""Building blocks of every part of the sample: weighted draws, calendar arithmetic on day numbers (days since
1970-01-01, as numpy int64) and small column helpers. Vectorised: no Python loop over people or rows."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def days(d: date) -> int:
    return (d - EPOCH).days


def shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def month_end(day_numbers: np.ndarray, months_ahead: np.ndarray | int = 0) -> np.ndarray:
    """Last day of the month `months_ahead` after the month of each day."""
    month = (day_numbers.astype("datetime64[D]").astype("datetime64[M]")
             + np.asarray(months_ahead).astype("timedelta64[M]"))
    return ((month + 1).astype("datetime64[D]") - 1).astype(np.int64)


def ymd(day_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = day_numbers.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def pick_by_weight(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    """Indices into `options` ((value, weight) pairs) drawn by weight."""
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def pick_per_row(rng: np.random.Generator, probs: np.ndarray, category: np.ndarray) -> np.ndarray:
    """One draw per row from the row's category's probability vector (probs: categories x options)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(category))
    return np.minimum((u[:, None] > cum[category]).sum(axis=1), probs.shape[1] - 1)


def weighted(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to weights that sum exactly to total (largest remainder)."""
    quota = weights / weights.sum() * total
    base = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return base


def unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high), in random order."""
    step = (high - low) // n
    return low + rng.permutation(n).astype(np.int64) * step + rng.integers(0, step, n)


def take(values: pl.Series, idx: np.ndarray) -> pl.Series:
    """values[idx], null where idx < 0."""
    got = values.gather(np.where(idx >= 0, idx, 0))
    return pl.DataFrame({"v": got, "m": idx >= 0}).select(pl.when(pl.col("m")).then(pl.col("v"))).to_series()


def blank_to_null(values: np.ndarray) -> pl.Series:
    s = pl.Series(values)
    return pl.DataFrame({"s": s}).select(pl.when(pl.col("s") != "").then(pl.col("s"))).to_series()
