"""Re-execute notebooks in place on a throwaway embedded server (`make notebooks`).

The server holds the first demo tenant, as under nbval (see ``conftest.prepare``). The
outputs are committed; nbval (in `make test`) re-runs the notebooks and compares them.
Usage: ``.venv/bin/python notebooks/execute.py notebooks/*.ipynb``.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from conftest import prepare
from nbclient import NotebookClient

from supercore_core.db import embedded
from supercore_core.db.server_settings import TEST_MEMORY


def main(paths: list[str]) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="sc-nbx-"))  # short: socket path limit
    prepare(embedded.start(data_dir / "pgdata", "supercore", memory_bytes=TEST_MEMORY))
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SUPERCORE_DATABASE_URL", None)
    os.environ["SUPERCORE_DATA_DIR"] = str(data_dir)
    os.environ["RAGAS_DO_NOT_TRACK"] = "true"
    try:
        for name in paths:
            path = Path(name)
            notebook = nbformat.read(path, as_version=4)
            started = time.perf_counter()
            client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
            client.execute()
            nbformat.write(notebook, path)
            print(f"{path}: {time.perf_counter() - started:.1f} s")
    finally:
        embedded.stop(data_dir / "pgdata")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
