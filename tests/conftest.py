import gzip
import os

import jax
import pytest

# Four CPU devices for the data-parallel tests (tests/test_parallel.py); must precede any jax computation.
jax.config.update("jax_num_cpu_devices", 4)

from jaxembed.cli import DEMO_CORPUS


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> str:
    """The first 8,000 lines (~120k words) of the bundled WordNet corpus, as a plain text file."""
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    with gzip.open(DEMO_CORPUS, "rt") as f:
        lines = [next(f) for _ in range(8000)]
    path.write_text("".join(lines))
    return os.fspath(path)
