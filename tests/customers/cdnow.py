"""The CDNOW transactions (Fader and Hardie) for the repeat-buying comparison.

The data ships inside the PyPI wheel Lifetimes==0.11.3 (lifetimes/datasets/); it is
found through the package's location, without importing lifetimes (whose imports fail
on current pandas). Used by tests/customers/test_bgnbd_reference.py and
bench/analysis.py.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
MASTER_COLUMNS = ["customer_id", "date", "cds", "dollars"]


def datasets_folder() -> Path | None:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets"
    return folder if (folder / "CDNOW_master.txt").exists() else None


def read(name: str, columns: list[str], header: int | None) -> pd.DataFrame:
    folder = datasets_folder()
    assert folder is not None, "CDNOW data not installed"
    frame = pd.read_csv(
        folder / name, sep=r"\s+", header=header, names=columns, dtype={"date": str}
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def holdout_split() -> tuple[pd.Index, pd.DataFrame, pd.Series]:
    """All customers, the calibration transactions, and each customer's holdout spend."""
    master = read("CDNOW_master.txt", MASTER_COLUMNS, header=0).astype({"customer_id": str})
    customers = pd.Index(np.sort(master["customer_id"].unique()), name="customer_id")
    calibration = master[master["date"] <= CALIBRATION_END]
    in_holdout = (master["date"] > CALIBRATION_END) & (master["date"] <= HOLDOUT_END)
    actual = master[in_holdout].groupby("customer_id")["dollars"].sum()
    return customers, calibration, actual.reindex(customers, fill_value=0.0)
