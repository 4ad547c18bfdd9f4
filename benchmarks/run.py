"""Run the benchmarks: ``python -m benchmarks.run [--scale N] [--only ingest query lexical embed]``.

Each benchmark starts its own throwaway embedded PostgreSQL in a temporary directory and
writes ``benchmarks/results/<name>.json``. Nothing here asserts on time.
"""

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks import embed, ingest, lexical, query, vindex
from benchmarks.common import SCIFACT, progress

BENCHMARKS = ("ingest", "query", "lexical", "vindex", "embed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument(
        "--scale",
        type=int,
        default=100_000,
        help="query and lexical benchmarks: chunks over the 100 small tenants (1%% each);"
        " 1000000 is long",
    )
    parser.add_argument(
        "--large-share", type=float, default=0.2, help="large tenant's chunks, as a share of scale"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--copy-rows", type=int, default=20_000)
    parser.add_argument("--orm-rows", type=int, default=2_000)
    parser.add_argument(
        "--vindex-sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 50_000, 200_000],
        help="vector-index benchmark: oracle sizes (chunks), one oracle each",
    )
    parser.add_argument(
        "--vindex-background",
        type=int,
        default=300_000,
        help="vector-index benchmark: chunks over the 100 small tenants",
    )
    parser.add_argument("--vindex-queries", type=int, default=100)
    parser.add_argument(
        "--vindex-real",
        type=Path,
        default=SCIFACT,
        help="vector-index benchmark: SciFact folder for the real-embedding corpus (MiniLM over"
        " its sentences); skipped with a message when absent",
    )
    parser.add_argument(
        "--vindex-real-sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 40_000],
        help="vector-index benchmark: real oracle sizes (the first N SciFact sentences)",
    )
    parser.add_argument(
        "--vindex-ceiling",
        type=int,
        nargs="+",
        default=[10, 100, 500],
        help="vector-index benchmark: numbers of partial indexes to plan against",
    )
    parser.add_argument("--texts", type=int, default=512, help="embedding benchmark texts")
    parser.add_argument(
        "--single-texts", type=int, default=128, help="of those, embedded one at a time"
    )
    return parser


def _headline(name: str, results: dict[str, Any]) -> dict[str, Any]:
    if name == "ingest":
        return {k: v for k, v in results.items() if k.startswith("ratio")}
    if name == "embed":
        sets = [k for k in ("tatqa-gate", "scifact") if k in results]
        return {
            "ratio_vs_torch": {
                s: {n: f["ratio_vs_torch"] for n, f in results[s].items()} for s in sets
            },
            "gate_ndcg_at_10": results["gate_ndcg_at_10"],
            "cold_start_s": results["cold_start_s"],
        }
    if name == "vindex":
        return {
            "recall_at_10_own_index": {
                r["chunks"]: r["recall_at_10"]["own_index"] for r in results["by_size"]
            },
            "p95_own_index_vs_unfiltered": {
                r["chunks"]: r["ratio_p95_own_index_vs_unfiltered"] for r in results["by_size"]
            },
            "real_recall_at_10_own_index": {
                r["chunks"]: r["recall_at_10"]["own_index"]
                for r in results["real"].get("by_size", [])
            },
            "real_p95_own_index_vs_unfiltered": {
                r["chunks"]: r["ratio_p95_own_index_vs_unfiltered"]
                for r in results["real"].get("by_size", [])
            },
            "ingest_no_shared_vs_shared": results["ingest"]["ratio_rows_per_s_no_shared_vs_shared"],
            "dense_planning_ms": {
                c["partial_indexes"]: c["dense_planning_ms"] for c in results["ceiling"]
            },
        }
    if name == "lexical":
        return {
            case: {k: v for k, v in results[case].items() if k.startswith("ratio")}
            | {"bm25_search_p95_ms": results[case]["bm25_search"]["p95_ms"]}
            for case in ("large_tenant", "small_tenants")
        }
    search = results["search"]
    return {
        "recall_at_10": search["recall_at_10_hnsw_vs_exact_large_tenant"],
        "p50_exact_vs_hnsw": search["ratio_p50_exact_vs_hnsw_large_tenant"],
        "p50_rls_on_vs_off": {
            case: figures["ratio_p50_rls_on_vs_off"]
            for case, figures in results["rls_vs_bypassrls"].items()
        },
    }


def main() -> None:
    """Run the chosen benchmarks in turn and print their headline ratios."""
    args = _parser().parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    runners = {
        "ingest": lambda: ingest.run(copy_rows=args.copy_rows, orm_rows=args.orm_rows),
        "query": lambda: query.run(
            scale=args.scale, large_share=args.large_share, queries=args.queries
        ),
        "lexical": lambda: lexical.run(
            scale=args.scale, large=int(args.scale * args.large_share), queries=args.queries
        ),
        "vindex": lambda: vindex.run(
            sizes=args.vindex_sizes,
            background=args.vindex_background,
            queries=args.vindex_queries,
            ceiling_steps=args.vindex_ceiling,
            real=args.vindex_real,
            real_sizes=tuple(args.vindex_real_sizes),
        ),
        "embed": lambda: embed.run(count=args.texts, single=args.single_texts),
    }
    started = time.perf_counter()
    headlines = {}
    for name in args.only:
        took = time.perf_counter()
        headlines[name] = _headline(name, runners[name]())
        progress(f"{name}: done in {time.perf_counter() - took:.0f} s")
    print(json.dumps(headlines, indent=2))
    progress(f"all done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
