"""Write small, deterministic spaceflights raw data into a project's data/01_raw/.

    python scripts/make_data.py [--rows N] [--out DIR]

Same seed, same rows: `companies.csv`, `reviews.csv` and `shuttles.xlsx` carry the
columns of the Kedro tutorial, and `price` depends on the model features (plus noise)
so the regression has something to learn.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pandas as pd

SEED = 20240917
LOCATIONS = ["Niue", "Anguilla", "Russian Federation", "Barbados", "Sao Tome and Principe"]
SHUTTLE_TYPES = ["Type V5", "Type F5", "Type V2", "Type O5"]
ENGINE_TYPES = ["Quantum", "Plasma", "Nuclear"]
ENGINE_VENDORS = ["ThetaBase Services", "Banks, Wood and Phillips", "Dynamo Aerospace"]
POLICIES = ["strict", "moderate", "flexible"]


def make_frames(rows: int, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Return the three raw tables for `rows` shuttles; the same seed gives the same data.

    Some ratings and review scores are missing, as in the tutorial data, so
    `create_model_input_table` has rows to drop.
    """
    rng = random.Random(seed)
    n_companies = max(2, rows // 3)
    companies = pd.DataFrame(
        {
            "id": list(range(1, n_companies + 1)),
            "company_rating": [
                None if rng.random() < 0.05 else f"{rng.randint(40, 100)}%"
                for _ in range(n_companies)
            ],
            "company_location": [rng.choice(LOCATIONS) for _ in range(n_companies)],
            "total_fleet_count": [rng.randint(1, 10) for _ in range(n_companies)],
            "iata_approved": [rng.choice("tf") for _ in range(n_companies)],
        }
    )
    ratings = {
        row.id: float(str(row.company_rating).rstrip("%")) / 100
        for row in companies.itertuples()
        if row.company_rating is not None
    }
    iata = dict(zip(companies["id"], companies["iata_approved"]))

    shuttle_rows, review_rows = [], []
    for shuttle_id in range(1, rows + 1):
        company_id = rng.randint(1, n_companies)
        engines = rng.randint(1, 4)
        capacity = rng.randint(1, 8)
        crew = rng.randint(1, 6)
        d_check = rng.choice("tf")
        moon = rng.choice("tf")
        review_rating = None if rng.random() < 0.05 else float(rng.randint(60, 100))
        price = (
            400.0
            + 250.0 * engines
            + 180.0 * capacity
            + 60.0 * crew
            + (90.0 if d_check == "t" else 0.0)
            + (40.0 if moon == "t" else 0.0)
            + (120.0 if iata[company_id] == "t" else 0.0)
            + 500.0 * ratings.get(company_id, 0.5)
            + 4.0 * (review_rating or 80.0)
            + rng.gauss(0.0, 60.0)
        )
        shuttle_rows.append(
            {
                "id": shuttle_id,
                "shuttle_location": rng.choice(LOCATIONS),
                "shuttle_type": rng.choice(SHUTTLE_TYPES),
                "engine_type": rng.choice(ENGINE_TYPES),
                "engine_vendor": rng.choice(ENGINE_VENDORS),
                "engines": engines,
                "passenger_capacity": capacity,
                "cancellation_policy": rng.choice(POLICIES),
                "crew": crew,
                "d_check_complete": d_check,
                "moon_clearance_complete": moon,
                "price": f"${price:,.1f}",
                "company_id": company_id,
            }
        )
        review_rows.append(
            {
                "shuttle_id": shuttle_id,
                "review_scores_rating": review_rating,
                "review_scores_comfort": float(rng.randint(6, 10)),
                "review_scores_amenities": float(rng.randint(6, 10)),
                "review_scores_trip": float(rng.randint(6, 10)),
                "review_scores_crew": float(rng.randint(6, 10)),
                "review_scores_location": float(rng.randint(6, 10)),
                "review_scores_price": float(rng.randint(6, 10)),
                "number_of_reviews": rng.randint(0, 200),
                "reviews_per_month": round(rng.uniform(0.1, 5.0), 2),
            }
        )
    return {
        "companies": companies,
        "shuttles": pd.DataFrame(shuttle_rows),
        "reviews": pd.DataFrame(review_rows),
    }


def write_raw_data(out_dir: Path, rows: int = 300, seed: int = SEED) -> list[Path]:
    """Write companies.csv, reviews.csv and shuttles.xlsx into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = make_frames(rows, seed)
    paths = [out_dir / "companies.csv", out_dir / "reviews.csv", out_dir / "shuttles.xlsx"]
    frames["companies"].to_csv(paths[0], index=False)
    frames["reviews"].to_csv(paths[1], index=False)
    frames["shuttles"].to_excel(paths[2], index=False, engine="openpyxl")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="number of shuttles")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "data" / "01_raw",
        help="output folder (default: the project's data/01_raw)",
    )
    args = parser.parse_args()
    for path in write_raw_data(args.out, args.rows):
        print(path)


if __name__ == "__main__":
    main()
