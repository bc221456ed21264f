"""One process of the two-process loopback run in test_parallel.py (not collected by pytest):

    python tests/multihost_worker.py PORT PROCESS_ID OUT_DIR CORPUS

Joins a 2-process jax.distributed run on 127.0.0.1:PORT with 2 CPU devices per process, runs the
data-parallel step of every test case and the word2vec trainer over the 4-device global mesh,
and saves what this process holds to OUT_DIR/process{ID}.npz.
"""
import sys

import jax
import numpy as np

port, process_id, out_dir, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
jax.config.update("jax_num_cpu_devices", 2)

from jaxembed import parallel  # noqa: E402

parallel.initialize_multihost(f"127.0.0.1:{port}", num_processes=2, process_id=process_id)

from jaxembed.config import Word2VecConfig  # noqa: E402
from jaxembed.fit import fit  # noqa: E402
from test_parallel import CASES, MULTIHOST_MODELS, TRAINER_CONFIG  # noqa: E402

results = {"devices": np.array(jax.device_count())}
for model in MULTIHOST_MODELS:
    case = CASES[model]()
    step = parallel.make_data_parallel_step(case.row_updates, case.apply_updates, parallel.data_mesh(), case.layout)
    state = case.init()
    for block in case.blocks:
        state, loss = step(state, *block)
    for i, leaf in enumerate(jax.tree.leaves(state)):
        results[f"{model}_{i}"] = np.asarray(leaf.addressable_data(0))
result = fit(corpus, Word2VecConfig(**TRAINER_CONFIG), progress=False)
results["trainer_vectors"] = result.vectors.vectors
np.savez(f"{out_dir}/process{process_id}.npz", **results)
