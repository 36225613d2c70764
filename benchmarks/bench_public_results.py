"""Public results and the published API (issue 11): time each page and document of the demo's
published package (SQLite in a temporary folder; the demo's package taken to "published").

    python benchmarks/bench_public_results.py [--repeat 20]

Prints, per address, the best and the median time of a request through the WSGI app (no
network, no cache: each request builds its answer from the stored snapshot) and the body size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ["draft", "internal_review", "approved", "submitted", "received", "accepted",
         "published"]


def build(url: str):
    from flask_migrate import upgrade
    from sqlalchemy import select

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, PackageVersion
    from surveyapp.services import demo, package_workflow, scorecards, submissions

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.test_request_context():
        upgrade()
        demo.load_demo()
        version = db.session.scalar(select(PackageVersion).where(
            PackageVersion.status == "draft"))
        if not version.surveys:
            campaign = db.session.scalar(select(Campaign).where(
                Campaign.title == demo.CAMPAIGN_TITLE))
            submissions.add_survey(None, version, campaign.id,
                                   scorecards.list_runs(campaign)[0].id)
        for step in STEPS[STEPS.index(version.status) + 1:]:
            package_workflow.transition(None, version, step)
        return app, version.id, version.package.year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    app, version_id, year = build(f"sqlite:///{folder}/bench.sqlite3")
    client = app.test_client()
    urls = [f"/results/{year}", f"/results/{year}/agencies/SO-TP",
            f"/results/packages/{version_id}", f"/results/packages/{version_id}/check",
            f"/api/v1/published/{year}", f"/api/v1/published/packages/{version_id}",
            f"/api/v1/published/{year}/open-data.json", f"/api/v1/published/{year}/open-data.csv",
            "/api/v1/openapi.json", "/api/v1/docs"]
    print(f"{'address':48} {'best':>8} {'median':>8} {'bytes':>9}")
    for url in urls:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{url:48} {min(times) * 1000:7.1f}ms {statistics.median(times) * 1000:7.1f}ms "
              f"{len(response.get_data()):9d}")


if __name__ == "__main__":
    main()
