"""Reliability: bad input exits 2 with a message and no traceback; checkpoints survive SIGKILL, Ctrl-C and
divergence, and a resumed run ends bitwise identical to an uninterrupted one (the oracle)."""
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxembed
import jaxembed.fit
from bad_inputs import CASES, materialise
from jaxembed.checkpoint import checkpoint_path, load_checkpoint
from jaxembed.cli import main
from jaxembed.config import FastTextConfig, GloveConfig, Word2VecConfig
from jaxembed.errors import ConfigError, InputFileError, JaxembedError, TrainingDiverged, TrainingInterrupted
from jaxembed.fit import fit
from jaxembed.vectors import Vectors

W2V_FLAGS = ["--dim", "12", "--min-count", "3", "--epochs", "3", "--seed", "7", "--quiet", "--binary"]
W2V_CONFIG = Word2VecConfig(dim=12, min_count=3, epochs=2, seed=7)
GLOVE_CONFIG = GloveConfig(dim=8, min_count=3, epochs=3, window=4, x_max=10.0, batch_size=256, batches_per_call=8, seed=3)
EVERY_BLOCK = 1e-9  # checkpoint_every (seconds) that makes every block due


@pytest.mark.parametrize("case,files,argv,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_a_clear_message(case, files, argv, message, tmp_path, capsys):
    assert main(materialise(str(tmp_path), files, argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxembed {argv.split()[0]}: error: ") and message in err, err
    assert "Traceback" not in err


def test_unknown_word_is_a_keyerror_and_a_jaxembed_error():
    vectors = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    for query in (lambda: vectors["zzz"], lambda: vectors.similarity("a", "zzz"), lambda: vectors.most_similar("zzz")):
        with pytest.raises(KeyError) as info:
            query()
        assert isinstance(info.value, JaxembedError) and str(info.value) == "word 'zzz' is not in the vocabulary (2 words)"
    with pytest.raises(ConfigError, match="at least one"):
        vectors.most_similar([])


def test_python_api_raises_the_documented_types(small_corpus, tmp_path):
    (tmp_path / "rare.txt").write_bytes(b"a b c\n")
    with pytest.raises(InputFileError, match="rare.txt.*min_count=5"):
        fit(tmp_path / "rare.txt", Word2VecConfig(), progress=False)
    with pytest.raises(InputFileError, match="does not exist"):
        fit(tmp_path / "none.txt", GloveConfig(), progress=False)
    with pytest.raises(ConfigError, match="format must be one of"):
        jaxembed.load_vectors(tmp_path / "rare.txt", format="npy")
    with pytest.raises(ConfigError, match="checkpoint_every must be >= 0"):
        fit(small_corpus, Word2VecConfig(epochs=1), progress=False, checkpoint_dir=tmp_path,
                       checkpoint_every=-1)


@contextlib.contextmanager
def faulty_step(monkeypatch, at_call: int, action):
    """Within the block, the jitted step the driver builds (jaxembed.fit.make_step) applies `action(state, loss)`
    after call `at_call`."""
    module, name = jaxembed.fit, "make_step"
    real = getattr(module, name)

    def make(*args, **kwargs):
        step, calls = real(*args, **kwargs), itertools.count()

        def wrapped(state, *rest):
            state, loss = step(state, *rest)
            return action(state, loss) if next(calls) == at_call else (state, loss)
        return wrapped

    with monkeypatch.context() as m:
        m.setattr(module, name, make)
        yield


def send_sigint(state, loss):
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does: the handler only sets a flag
    return state, loss


def poisoned(state):
    """The training state (jaxembed.replicas.ReplicaState: word2vec's default on a CPU) with an inf in replica 0."""
    first = state.replicas[0]
    return state.replace(replicas=(first.replace(syn0_VxD=first.syn0_VxD.at[0].set(jnp.inf)),) + state.replicas[1:])


@pytest.fixture(scope="module")
def w2v_reference(small_corpus):
    return fit(small_corpus, W2V_CONFIG, progress=False).vectors.vectors


@pytest.mark.parametrize("fault", ["nan_loss", "nan_params"])
def test_divergence_stops_with_the_last_good_checkpoint_intact(small_corpus, tmp_path, monkeypatch, w2v_reference, fault):
    action = {"nan_loss": lambda state, loss: (state, jax.tree.map(lambda x: x * jnp.nan, loss)),
              "nan_params": lambda state, loss: (poisoned(state), loss)}[fault]
    with faulty_step(monkeypatch, 7, action), \
            pytest.raises(TrainingDiverged, match=r"training diverged: .* the last good checkpoint .*epoch 1, block 7\) is kept"):
        fit(small_corpus, W2V_CONFIG, progress=False, checkpoint_dir=tmp_path, checkpoint_every=EVERY_BLOCK)
    saved = load_checkpoint(tmp_path)
    assert (saved["position"]["epoch"], saved["position"]["block"]) == (0, 7)
    assert all(np.isfinite(replica["syn0_VxD"]).all() for replica in saved["state"]["replicas"].values())
    resumed = fit(small_corpus, W2V_CONFIG, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.vectors.vectors.tobytes() == w2v_reference.tobytes()


def test_absurd_learning_rate_diverges_without_checkpoint(small_corpus):
    with pytest.raises(TrainingDiverged, match="training diverged: the loss of epoch 1, block .* is (nan|inf)"):
        fit(small_corpus, W2V_CONFIG.replace(alpha=1e30), progress=False)


def test_interrupt_saves_a_checkpoint_and_resume_is_bitwise_identical(small_corpus, tmp_path, monkeypatch, w2v_reference):
    with faulty_step(monkeypatch, 30, send_sigint), \
            pytest.raises(TrainingInterrupted, match=r"checkpoint of epoch 2, block \d+ saved .* --resume"):
        fit(small_corpus, W2V_CONFIG, progress=False, checkpoint_dir=tmp_path, checkpoint_every=0)
    assert load_checkpoint(tmp_path)["position"]["block"] > 0
    with pytest.raises(ConfigError, match="another config"):
        fit(small_corpus, W2V_CONFIG.replace(seed=8), progress=False, checkpoint_dir=tmp_path, resume=True)
    (tmp_path / "other.txt").write_bytes(open(small_corpus, "rb").read()[:-1000])
    with pytest.raises(InputFileError, match="is not the one checkpoint .* was trained on"):
        fit(tmp_path / "other.txt", W2V_CONFIG, progress=False, checkpoint_dir=tmp_path, resume=True)
    resumed = fit(small_corpus, W2V_CONFIG, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.vectors.vectors.tobytes() == w2v_reference.tobytes()


def test_glove_interrupt_and_resume_is_bitwise_identical(small_corpus, tmp_path, monkeypatch):
    reference = fit(small_corpus, GLOVE_CONFIG, progress=False)
    blocks_per_epoch = -(-reference.metrics["nonzeros"] // (GLOVE_CONFIG.batch_size * GLOVE_CONFIG.batches_per_call))
    with faulty_step(monkeypatch, blocks_per_epoch * 3 // 2, send_sigint), \
            pytest.raises(TrainingInterrupted):
        fit(small_corpus, GLOVE_CONFIG, progress=False, checkpoint_dir=tmp_path, checkpoint_every=0)
    position = load_checkpoint(tmp_path)["position"]
    assert position["epoch"] >= 1 and position["block"] > 0
    resumed = fit(small_corpus, GLOVE_CONFIG, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.vectors.vectors.tobytes() == reference.vectors.vectors.tobytes()
    assert resumed.metrics["epoch_losses"] == reference.metrics["epoch_losses"]


def test_ctrl_c_exits_130_and_cli_resume_finishes_the_run(small_corpus, tmp_path, monkeypatch, capsys):
    run = str(tmp_path / "run")
    with faulty_step(monkeypatch, 5, send_sigint):
        assert main(["train", "--corpus", small_corpus, "--out", run, *W2V_FLAGS]) == 130
    err = capsys.readouterr().err
    assert f"--resume {run}" in err and "Traceback" not in err and os.path.exists(checkpoint_path(run))
    assert main(["train", "--resume", run, "--quiet"]) == 0
    assert not os.path.exists(checkpoint_path(run)) and os.path.exists(os.path.join(run, "vectors.txt"))


def wait_for_checkpoint(path: str, process: subprocess.Popen, epoch: int, timeout: float = 120.0) -> dict:
    """Poll until the run's checkpoint is in `epoch` (0-based) past its first block."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if os.path.exists(checkpoint_path(path)):
            position = load_checkpoint(path)["position"]
            if position["epoch"] == epoch and position["block"] > 0:
                return position
        time.sleep(0.01)
    raise AssertionError(f"no checkpoint in epoch {epoch} (process returned {process.poll()})")


def test_sigkill_mid_epoch_then_resume_gives_bitwise_identical_vectors(small_corpus, tmp_path):
    reference, run = str(tmp_path / "reference"), str(tmp_path / "run")
    assert main(["train", "--corpus", small_corpus, "--out", reference, *W2V_FLAGS]) == 0
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(jaxembed.__file__))}
    process = subprocess.Popen([sys.executable, "-m", "jaxembed.cli", "train", "--corpus", small_corpus, "--out", run,
                                *W2V_FLAGS, "--checkpoint-every", str(EVERY_BLOCK)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_checkpoint(run, process, epoch=1)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL and not os.path.exists(os.path.join(run, "vectors.txt"))
    killed_at = load_checkpoint(run)["position"]
    assert killed_at["epoch"] == 1 and killed_at["block"] > 0  # mid-epoch, after one full epoch
    assert main(["train", "--resume", run, "--quiet", "--binary"]) == 0
    for name in ("vectors.bin", "vectors.txt"):
        with open(os.path.join(run, name), "rb") as a, open(os.path.join(reference, name), "rb") as b:
            assert a.read() == b.read(), name


def test_shuffled_run_resumes_bitwise_identical(small_corpus, tmp_path, monkeypatch):
    """The resumed epoch regenerates the same sentence order and skips the blocks already trained."""
    config = W2V_CONFIG.replace(shuffle=True)
    reference = fit(small_corpus, config, progress=False).vectors.vectors
    with faulty_step(monkeypatch, 30, send_sigint), \
            pytest.raises(TrainingInterrupted, match="checkpoint of epoch 2"):
        fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, checkpoint_every=0)
    assert load_checkpoint(tmp_path)["position"]["block"] > 0
    resumed = fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.vectors.vectors.tobytes() == reference.tobytes()


@pytest.mark.parametrize("shuffle,replicas", [(False, 1), (True, 1), (False, 2)])
def test_fasttext_interrupt_and_resume_is_bitwise_identical(small_corpus, tmp_path, monkeypatch, shuffle, replicas):
    config = FastTextConfig(dim=8, min_count=3, epochs=2, bucket=2000, sample=1e-3, batches_per_call=16, seed=5,
                            shuffle=shuffle, replicas=replicas, merge_every=4)
    reference = fit(small_corpus, config, progress=False)
    with faulty_step(monkeypatch, 60 // replicas, send_sigint), \
            pytest.raises(TrainingInterrupted):
        fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, checkpoint_every=0)
    block = load_checkpoint(tmp_path)["position"]["block"]
    assert block > 0 and (replicas == 1 or block % config.merge_every)  # replicas: stopped between two merges
    resumed = fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.state.input_RxD.tobytes() == reference.state.input_RxD.tobytes()
    assert resumed.vectors.vectors.tobytes() == reference.vectors.vectors.tobytes()


def test_device_examples_large_batch_deterministic_and_resume_bitwise(small_corpus, tmp_path, monkeypatch):
    """Examples made on the device, count-aware large batches: same seed, same bytes; a resumed run regenerates
    the remaining chunks from their keys and ends where the uninterrupted run ends."""
    monkeypatch.setattr(jaxembed.models.word2vec, "DEVICE_CHUNK_TOKENS", 4096)
    config = W2V_CONFIG.replace(batch_size=16384, device_examples=True, max_sentence_length=1000)
    reference = fit(small_corpus, config, progress=False)
    assert reference.metrics["device_examples"] and reference.metrics["examples"] > 0
    assert fit(small_corpus, config, progress=False).vectors.vectors.tobytes() == reference.vectors.vectors.tobytes()
    with faulty_step(monkeypatch, 40, send_sigint), pytest.raises(TrainingInterrupted, match="checkpoint of epoch 2"):
        fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, checkpoint_every=0)
    resumed = fit(small_corpus, config, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed.vectors.vectors.tobytes() == reference.vectors.vectors.tobytes()
    assert resumed.metrics["examples"] == reference.metrics["examples"]
