"""The area the sample portrays: Kota Kendari, its published figures, and the regions of Sulawesi Tenggara
(reference/regions_sultra.csv) its people live and are registered in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
AREA_CODE = "74.71"  # Kota Kendari

# Published figures for Kota Kendari at 2025-06-08; every other count scales from these.
CALIBRATION = {
    "eligible_workforce": 140_940,
    "covered_workers": 49_397,
    "pu_workers": 88_357,
    "bpu_participants": 36_140,
    "jakon_workers": 16_443,
}


@dataclass
class Reference:
    village_codes: pl.Series  # dotted codes of every Sultra village
    village_district: np.ndarray  # index into district_codes
    kendari_villages: np.ndarray  # indices of Kendari's villages
    district_codes: pl.Series  # dotted codes of every Sultra district
    district_int: np.ndarray  # 6-digit NIK prefix of each district
    district_regency: np.ndarray  # regency code ('74.71') of each district
    village_regency: np.ndarray
    village_names: pl.Series


def load_reference() -> Reference:
    regions = pl.read_csv(REFERENCE_DIR / "regions_sultra.csv", infer_schema=False)
    districts = regions.filter(pl.col("level") == "district").sort("code")
    villages = regions.filter(pl.col("level") == "village").sort("code")
    district_codes = districts["code"]
    village_district = np.searchsorted(district_codes.to_numpy(), villages["parent_code"].to_numpy())
    village_regency = villages["code"].str.slice(0, 5).to_numpy()
    return Reference(
        village_codes=villages["code"],
        village_district=village_district,
        kendari_villages=np.flatnonzero(village_regency == AREA_CODE),
        district_codes=district_codes,
        district_int=district_codes.str.replace_all(".", "", literal=True).cast(pl.Int64).to_numpy(),
        district_regency=district_codes.str.slice(0, 5).to_numpy(),
        village_regency=village_regency,
        village_names=villages["name"],
    )
