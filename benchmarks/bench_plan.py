"""Benchmark of the treatment planner's search with the healing model. Prints a table.

Patient: 35-year-old woman, Fitzpatrick V, cheek, atrophic acne scars (the
default grid within the cheek's 2 mm limit: 108 candidate courses). Every case
is timed warm (after one plan has compiled its shapes), ``--repeat`` times,
each time for a patient of a new age (no cache can answer):

* ``screen, batched``: the 108 courses on the expected patient (two solves per
  course) in one batched evaluation (``needlesim.studies.evaluate_courses``: chunks
  of whole courses, solved in parallel threads), at the screen's tolerance
  (``SCREEN_OPTIONS``, as the planner screens) and at the default one;
* ``screen, one call per course`` (the **baseline**): the same 216 solves, one
  evaluator call per course (two patients each), as the search made its calls before;
* ``shortlist on 32 virtual patients``: the recommended course, its alternatives
  and the best course regardless of risk, batched;
* ``plan``: the whole plan (screening of the history, the two stages, selection);
* with ``--previous``: the search as it was before (every course on 32 virtual
  patients, one call per course; about two minutes on 2 cores), timed once.

``ratio`` is the baseline's time over the case's (> 1: faster than the baseline).
Target (issue 12): a plan in under 3 s on 2 cores.

Run: ``python benchmarks/bench_plan.py [--repeat 3] [--previous]``
"""

from __future__ import annotations

import argparse
import statistics
import time

from needlesim.config import Patient
from needlesim.planning import plan_treatment
from needlesim.planning.regions import depth_limit
from needlesim.planning.search import (
    N_VIRTUAL,
    SCREEN_OPTIONS,
    SearchGrid,
    limits_for,
    predict_all,
    select,
    virtual_patients,
)
from needlesim.planning.targets import INDICATION_TARGETS
from needlesim.studies import evaluate_batch
from timing import timed


def patient(age: float) -> Patient:
    return Patient(age_years=age, sex="female", fitzpatrick=5, region="cheek")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--previous", action="store_true", help="also time the old search")
    args = parser.parse_args()

    p0 = patient(35.0)
    target = INDICATION_TARGETS[p0.indication]
    depth = depth_limit(p0.region)
    limits = limits_for(p0.fitzpatrick)
    candidates = SearchGrid().candidates(depth.max_needle_length_mm)
    protocols = [c.protocol() for c in candidates]

    t0 = time.perf_counter()
    plan_treatment(p0)  # compiles the screen's and the shortlist's shapes
    predict_all(
        evaluate_batch, virtual_patients(p0, 1, 0), candidates, target, depth, expected=True
    )  # fmt: skip  (the screen at the default tolerance)
    for n in sorted({c.sessions for c in candidates}):  # the per-course path's shapes
        one = next(p for c, p in zip(candidates, protocols, strict=True) if c.sessions == n)
        evaluate_batch(virtual_patients(p0, 2, 0), one, individual=False)
    compile_s = time.perf_counter() - t0

    def age(i: int) -> float:
        return 36.0 + i

    def screen(i: int) -> None:
        pts = virtual_patients(patient(age(i)), 1, 0)
        predict_all(
            evaluate_batch, pts, candidates, target, depth, expected=True, options=SCREEN_OPTIONS
        )

    def screen_default(i: int) -> None:
        pts = virtual_patients(patient(age(i)), 1, 0)
        predict_all(evaluate_batch, pts, candidates, target, depth, expected=True)

    def per_course(i: int) -> None:
        pts = virtual_patients(patient(age(i)), 2, 0)
        for protocol in protocols:
            evaluate_batch(pts, protocol, individual=False)

    pts1 = virtual_patients(p0, 1, 0)
    first = select(predict_all(evaluate_batch, pts1, candidates, target, depth, expected=True,
                               options=SCREEN_OPTIONS), limits)  # fmt: skip
    shortlist = list(dict.fromkeys(
        [q.candidate for q in (first.recommended, first.best_unconstrained) if q]
        + [q.candidate for q, _ in first.alternatives]
    ))  # fmt: skip

    def cohort(i: int) -> None:
        pts = virtual_patients(patient(age(i)), N_VIRTUAL, 0)
        predict_all(evaluate_batch, pts, shortlist, target, depth)

    def plan(i: int) -> None:
        plan_treatment(patient(age(i)))

    baseline = timed(per_course, args.repeat)
    rows = [
        (f"screen, batched ({len(candidates)} courses x 2)", timed(screen, args.repeat)),
        ("screen, batched, default tolerance", timed(screen_default, args.repeat)),
        ("screen, one call per course (baseline)", baseline),
        (f"shortlist ({len(shortlist)} courses) on {N_VIRTUAL} patients",
         timed(cohort, args.repeat)),
        ("plan (whole)", timed(plan, args.repeat)),
    ]  # fmt: skip
    if args.previous:

        def previous(i: int) -> None:
            pts = virtual_patients(patient(age(i)), N_VIRTUAL, 0)
            for protocol in protocols:
                evaluate_batch(pts, protocol)

        rows.append((f"previous search ({len(candidates)} x {N_VIRTUAL}, per course)",
                     timed(previous, 1)))  # fmt: skip

    base = statistics.median(baseline)
    print(f"\nneedlesim planner, warm times (s), {args.repeat} repeats; compile {compile_s:.0f} s")
    print(f"{'what':48s} {'median':>8s} {'min':>8s} {'max':>8s} {'ratio':>7s}")
    for name, times in rows:
        med = statistics.median(times)
        print(f"{name:48s} {med:8.2f} {min(times):8.2f} {max(times):8.2f} {base / med:7.2f}")
    print("target: plan < 3 s on 2 cores (issue 12)")


if __name__ == "__main__":
    main()
