"""Frames for the sampling-plan tests: dossiers settled by agencies (CSV bytes)."""

from __future__ import annotations

import csv
import io

from surveyapp.services.sampling_plans import DesignData

AGENCIES = ("Sở Tư pháp", "Sở Xây dựng", "UBND Quận 1", "UBND Phường Bến Nghé")
WARDS = ("Phường Tân Định", "Phường Đa Kao", "Phường Bến Nghé", "Phường Bến Thành",
         "Phường Phạm Ngũ Lão", "Phường Linh Đông")


def dossier_rows(per_agency: int = 30) -> list[dict]:
    rows = []
    for a, agency in enumerate(AGENCIES):
        for i in range(per_agency):
            k = a * per_agency + i
            ward = WARDS[k % len(WARDS)]
            rows.append({"ma_ho_so": f"HS{k + 1:05d}", "ho_ten": f"Nguyễn Văn {k + 1}",
                         "dia_chi": f"{k + 1} đường Lê Lợi, {ward}", "co_quan": agency,
                         "phuong": ward, "dan_so": str(10_000 + 1_000 * (k % len(WARDS))),
                         "so_ho_so": str(1 + (k * 7) % 13)})
    return rows


def to_csv(rows: list[dict], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def frame_csv(per_agency: int = 30) -> bytes:
    return to_csv(dossier_rows(per_agency))


def design(**changes) -> DesignData:
    """Stratified by agency, PPS systematic on the number of dossiers, 8 reserves in all."""
    values = dict(id_column="ma_ho_so", label_columns=["ho_ten", "dia_chi"],
                  stratum_column="co_quan", size_column="so_ho_so", psu_column=None,
                  method="pps-systematic", psu_method=None, n_per_psu=None,
                  allocation_method="proportional", power_exponent=0.5, minimum=0,
                  maximum=None, n=40, reserve=2, seed=20240104)
    values.update(changes)
    return DesignData(**values)


def two_stage(**changes) -> DesignData:
    """Three wards by PPS on population, then 3 dossiers by SRS in each (1 reserve per ward)."""
    values = dict(stratum_column=None, psu_column="phuong", psu_method="pps-sampford",
                  size_column="dan_so", method="srs", n_per_psu=3, n=3, reserve=1)
    values.update(changes)
    return design(**values)
