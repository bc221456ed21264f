"""No run lost to a signal or a shared directory: SIGINT and SIGTERM at every phase of `jaxembed train`
with `--checkpoint-every 0` either let the run finish or leave what `--resume` needs to end with the
uninterrupted run's bytes; one process per run directory; a resume checks its corpus's content; the
output options are part of the saved run; stale files are removed."""
import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

import jaxembed.data.corpus
import jaxembed.fit
import jaxembed.models.fasttext
from jaxembed.checkpoint import checkpoint_path
from jaxembed.cli import main

FLAGS = {
    "sgns": ["--model", "sgns", "--dim", "8", "--min-count", "3", "--epochs", "2", "--seed", "3", "--binary"],
    "fasttext": ["--model", "fasttext", "--dim", "8", "--min-count", "3", "--epochs", "2", "--seed", "3",
                 "--bucket", "2000", "--batches-per-call", "16"],
}
OUTPUTS = {"sgns": ("vectors.txt", "vectors.bin"), "fasttext": ("vectors.txt", "model.bin")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, small_corpus) -> str:
    """The first 2,000 lines of the small corpus."""
    path = tmp_path_factory.mktemp("safety") / "corpus.txt"
    with open(small_corpus) as f:
        path.write_text("".join(line for _, line in zip(range(2000), f)))
    return os.fspath(path)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict:
    """Each model's output files from an uninterrupted run."""
    outputs = {}
    for model, flags in FLAGS.items():
        run = tmp_path_factory.mktemp(f"reference-{model}")
        assert main(["train", "--corpus", corpus, "--out", os.fspath(run), "--quiet", *flags]) == 0
        outputs[model] = {name: (run / name).read_bytes() for name in OUTPUTS[model]}
    return outputs


def signalling(module, name: str, signals: tuple, *, after: bool = False):
    """A patch for `module.name` whose first call sends `signals` to this process before (or after) calling
    the original."""
    original, calls = getattr(module, name), iter(range(10**9))

    def patched(*args, **kwargs):
        first = next(calls) == 0
        if first and not after:
            send(signals)
        result = original(*args, **kwargs)
        if first and after:
            send(signals)
        return result
    return module, name, patched


def send(signals: tuple) -> None:
    for s in signals:
        os.kill(os.getpid(), s)


def step_signalling(signals: tuple, at_call: int = 3):
    """A patch for the driver's step factory: the step sends `signals` after call `at_call` (mid-epoch)."""
    real = jaxembed.fit.make_step

    def make(*args, **kwargs):
        step, calls = real(*args, **kwargs), iter(range(10**9))

        def wrapped(state, *rest):
            out = step(state, *rest)
            if next(calls) == at_call:
                send(signals)
            return out
        return wrapped
    return jaxembed.fit, "make_step", make


INT, TERM = signal.SIGINT, signal.SIGTERM
POINTS = {
    "counting the vocabulary": lambda s: signalling(jaxembed.data.corpus, "count_words", s, after=True),
    "mid-epoch": step_signalling,
    "end of training": lambda s: signalling(jaxembed.fit, "trained_result", s),
    "writing vectors.txt": lambda s: signalling(jaxembed.fit, "save_word2vec", s),
    "writing metrics.json": lambda s: signalling(jaxembed.fit, "write_json", s),
    "writing model.bin": lambda s: signalling(jaxembed.models.fasttext, "save_fasttext_model", s),
}
IMMEDIATE = ("counting the vocabulary", "mid-epoch")  # where a second signal changes nothing
CASES = [(model, point, signals) for model in FLAGS for point in POINTS
         if not (point == "writing model.bin" and model != "fasttext")
         for signals in ((INT,), (TERM,)) + (() if point in IMMEDIATE else ((TERM, INT),))]


@pytest.mark.parametrize("model,point,signals", CASES,
                         ids=[f"{m}-{p.replace(' ', '_')}-{'+'.join(signal.Signals(s).name for s in ss)}"
                              for m, p, ss in CASES])
def test_a_signal_at_any_point_loses_nothing(model, point, signals, corpus, reference, tmp_path, monkeypatch, capsys):
    run = os.fspath(tmp_path / "run")
    with monkeypatch.context() as patch:
        patch.setattr(*POINTS[point](signals))
        code = main(["train", "--corpus", corpus, "--out", run, "--quiet", "--checkpoint-every", "0", *FLAGS[model]])
    err = capsys.readouterr().err
    assert "Traceback" not in err and code in (0, 130), err
    if code == 130:
        assert f"--resume {run}" in err and any(signal.Signals(s).name in err for s in signals), err
        assert main(["train", "--resume", run, "--quiet"]) == 0
    finished_at_once = len(signals) == 1 and point not in IMMEDIATE
    assert (code == 0) == finished_at_once, err
    if code == 0:
        assert f"{signal.Signals(signals[0]).name} arrived after training; the output files were completed" in err
    for name, data in reference[model].items():
        with open(os.path.join(run, name), "rb") as f:
            assert f.read() == data, name
    assert os.path.exists(os.path.join(run, "metrics.json")) and not os.path.exists(checkpoint_path(run))
    assert not [n for n in os.listdir(run) if n.startswith(".tmp-")]


def test_sigterm_in_a_real_process_mid_training_then_resume(corpus, reference, tmp_path):
    """SIGTERM from outside (as a job scheduler sends it) checkpoints and exits 130."""
    run = os.fspath(tmp_path / "run")
    script = textwrap.dedent(f"""
        import os, signal, sys
        import jaxembed.fit
        from jaxembed.cli import main
        real = jaxembed.fit.make_step
        def make(*a, **k):
            step, calls = real(*a, **k), iter(range(10**9))
            def wrapped(state, *rest):
                if next(calls) == 5:
                    print("ready", flush=True)
                    sys.stdin.readline()  # the parent sends SIGTERM, then a line
                return step(state, *rest)
            return wrapped
        jaxembed.fit.make_step = make
        sys.exit(main(["train", "--corpus", {corpus!r}, "--out", {run!r}, "--quiet", "--checkpoint-every", "0",
                       *{FLAGS["sgns"]!r}]))
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate("go\n", timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130 and "SIGTERM" in err and os.path.exists(checkpoint_path(run)), err
    assert main(["train", "--resume", run, "--quiet"]) == 0
    assert open(os.path.join(run, "vectors.txt"), "rb").read() == reference["sgns"]["vectors.txt"]


def test_a_second_process_is_refused_naming_the_first(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys
        from jaxembed.rundir import locked
        with locked({os.fspath(run)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        assert main(["train", "--corpus", corpus, "--out", os.fspath(run), "--quiet", *FLAGS["sgns"]]) == 2
        err = capsys.readouterr().err
        assert f"is in use by another jaxembed run (pid {holder.pid})" in err, err
        assert not os.path.exists(run / "run.json")
    finally:
        holder.communicate("done\n", timeout=30)
    assert main(["train", "--corpus", corpus, "--out", os.fspath(run), "--quiet", *FLAGS["sgns"]]) == 0


def interrupted_run(corpus: str, run: str, flags: list[str]) -> None:
    """Start a run into `run` and stop it with SIGINT mid-epoch, leaving its checkpoint."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(*step_signalling((INT,)))
        assert main(["train", "--corpus", corpus, "--out", run, "--quiet", "--checkpoint-every", "0", *flags]) == 130
    assert os.path.exists(checkpoint_path(run))


@pytest.mark.parametrize("change", ["two words swapped", "lines reversed"])
def test_resume_on_a_changed_corpus_is_refused(change, corpus, tmp_path, capsys):
    original = open(corpus).read()
    moved = tmp_path / "corpus.txt"
    moved.write_text(original)
    run = os.fspath(tmp_path / "run")
    interrupted_run(os.fspath(moved), run, FLAGS["sgns"])
    if change == "two words swapped":
        words = original.split(" ")
        first = next(i for i, w in enumerate(words) if w != words[0])
        words[0], words[first] = words[first], words[0]
        moved.write_text(" ".join(words))
    else:
        moved.write_text("".join(reversed(original.splitlines(keepends=True))))
    capsys.readouterr()
    assert main(["train", "--resume", run, "--quiet"]) == 2
    assert "its content differs (fingerprint)" in capsys.readouterr().err
    moved.write_text(original)
    assert main(["train", "--resume", run, "--quiet"]) == 0


def test_output_options_are_saved_with_the_run(corpus, reference, tmp_path):
    run = os.fspath(tmp_path / "run")
    interrupted_run(corpus, run, FLAGS["sgns"])  # with --binary
    assert main(["train", "--resume", run, "--quiet"]) == 0
    assert open(os.path.join(run, "vectors.bin"), "rb").read() == reference["sgns"]["vectors.bin"]


def test_a_directory_of_another_run_is_refused_unless_overwrite(corpus, tmp_path, capsys):
    run = os.fspath(tmp_path / "run")
    assert main(["train", "--corpus", corpus, "--out", run, "--quiet", *FLAGS["sgns"]]) == 0  # writes vectors.bin
    no_binary = [f for f in FLAGS["sgns"] if f != "--binary"]
    capsys.readouterr()
    assert main(["train", "--corpus", corpus, "--out", run, "--quiet", *no_binary]) == 2
    assert "holds the files of another run (run.json, vectors.txt, vectors.bin, metrics.json)" in capsys.readouterr().err
    assert main(["train", "--resume", run, "--quiet"]) == 2
    assert "finished: its outputs are written" in capsys.readouterr().err
    assert main(["train", "--corpus", corpus, "--out", run, "--quiet", "--overwrite", *no_binary]) == 0
    assert not os.path.exists(os.path.join(run, "vectors.bin"))
    interrupted_run(corpus, os.fspath(tmp_path / "other"), no_binary)
    assert main(["train", "--corpus", corpus, "--out", os.fspath(tmp_path / "other"), "--quiet", *no_binary]) == 2
    assert "holds the files of an unfinished run" in capsys.readouterr().err


def test_killed_runs_temporaries_are_removed_and_outputs_follow_the_umask(corpus, tmp_path):
    run = tmp_path / "run"
    interrupted_run(corpus, os.fspath(run), FLAGS["sgns"])
    stale = [run / ".tmp-vectors.txt-k9x2", run / ".tmp-checkpoint.msgpack-3hq1"]
    for path in stale:
        path.write_bytes(b"partial")
    (run / ".tmp-notes-of-the-user").write_bytes(b"kept")
    previous = os.umask(0o027)
    try:
        assert main(["train", "--resume", os.fspath(run), "--quiet"]) == 0
    finally:
        os.umask(previous)
    assert not any(path.exists() for path in stale) and (run / ".tmp-notes-of-the-user").exists()
    for name in ("vectors.txt", "vectors.bin", "metrics.json", "run.json"):
        assert stat.S_IMODE(os.stat(run / name).st_mode) == 0o640, name


@pytest.mark.parametrize("failure", ["disk full", "read-only directory"])
def test_os_errors_name_the_users_file(failure, tmp_path, monkeypatch):
    import jaxembed.io.atomic
    from jaxembed.errors import OutputFileError
    from jaxembed.io.atomic import atomic_open
    target = tmp_path / "out.bin"
    if failure == "disk full":
        def fail(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(jaxembed.io.atomic.os, "fsync", fail)
        expected = "No space left on device"
    else:
        def fail(dir, prefix):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.path.join(dir, prefix + "x1y2"))
        monkeypatch.setattr(jaxembed.io.atomic.tempfile, "mkstemp", fail)
        expected = "Permission denied"
    with pytest.raises(OutputFileError, match=f"cannot write '{target}': {expected}"):
        with atomic_open(target) as f:
            f.write(b"x")
    assert os.listdir(tmp_path) == []


def test_a_directory_in_the_way_is_named(tmp_path):
    from jaxembed.errors import OutputFileError
    from jaxembed.io.atomic import atomic_open
    (tmp_path / "dir").mkdir()
    with pytest.raises(OutputFileError, match=r"cannot write '.*dir': it is a directory"):
        with atomic_open(tmp_path / "dir"):
            pass


def test_a_run_that_fails_before_training_leaves_no_trace(corpus, tmp_path):
    new, existing = tmp_path / "new", tmp_path / "existing"
    existing.mkdir()
    for out in (new, existing):
        assert main(["train", "--corpus", os.fspath(tmp_path / "missing.txt"), "--out", os.fspath(out), "--quiet"]) == 2
    assert not new.exists() and os.listdir(existing) == [".jaxembed.lock"]
    assert main(["train", "--corpus", corpus, "--out", os.fspath(existing), "--quiet", *FLAGS["sgns"]]) == 0


@pytest.mark.parametrize("command", ["eval", "convert", "similar"])
@pytest.mark.parametrize("signum", [INT, TERM])
def test_other_commands_stop_on_a_signal_with_one_line(command, signum, tmp_path, monkeypatch, capsys):
    import jaxembed.io.formats
    vectors = tmp_path / "v.txt"
    vectors.write_bytes(b"2 2\nfoo 1 2\nbar 3 4\n")
    monkeypatch.setattr(*signalling(jaxembed.io.formats, "load_vectors", (signum,)))
    argv = {"eval": ["eval", os.fspath(vectors)], "similar": ["similar", os.fspath(vectors), "foo"],
            "convert": ["convert", os.fspath(vectors), os.fspath(tmp_path / "out.txt"), "--to", "glove"]}[command]
    assert main(argv) == 130
    assert capsys.readouterr().err == f"jaxembed {command}: interrupted by {signal.Signals(signum).name}\n"
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("link,message", [("loop", "is a symbolic link loop"),
                                          ("gone.txt", "is a symbolic link to 'gone.txt', which does not exist")])
def test_a_broken_symbolic_link_is_named_as_one(link, message, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    os.symlink(link, corpus) if link == "gone.txt" else os.symlink(corpus.name, corpus)
    assert main(["train", "--corpus", os.fspath(corpus), "--out", os.fspath(tmp_path / "run"), "--quiet"]) == 2
    assert f"corpus file '{corpus}' {message}" in capsys.readouterr().err
    assert main(["eval", os.fspath(corpus)]) == 2
    assert ("Too many levels of symbolic links" if link == "loop" else "No such file or directory") in capsys.readouterr().err


def test_fit_names_a_misused_argument(corpus):
    from jaxembed.config import Word2VecConfig
    from jaxembed.errors import ConfigError
    from jaxembed.fit import fit
    with pytest.raises(ConfigError, match="corpus must be a file path, .*got NoneType None"):
        fit(None, Word2VecConfig())
    with pytest.raises(ConfigError, match="config must be a Word2VecConfig, GloveConfig, FastTextConfig, PpmiConfig or "
                       "SvdConfig, got dict"):
        fit(corpus, {"dim": 8})
    with pytest.raises(ConfigError, match="checkpoint_dir must be a file path .*got int 3"):
        fit(corpus, Word2VecConfig(), checkpoint_dir=3)


def test_a_failed_output_write_keeps_the_finished_training(corpus, reference, tmp_path, monkeypatch, capsys):
    from jaxembed.errors import OutputFileError
    run, real, calls = os.fspath(tmp_path / "run"), jaxembed.fit.save_word2vec, iter(range(10**9))

    def full_disk_on_the_binary_file(path, vectors, binary=False):
        if next(calls) == 1:
            raise OutputFileError(f"cannot write {path!r}: No space left on device")
        return real(path, vectors, binary=binary)
    with monkeypatch.context() as patch:
        patch.setattr(jaxembed.fit, "save_word2vec", full_disk_on_the_binary_file)
        assert main(["train", "--corpus", corpus, "--out", run, "--quiet", "--checkpoint-every", "0", *FLAGS["sgns"]]) == 2
    assert f"No space left on device; the finished training is saved in {checkpoint_path(run)}" in capsys.readouterr().err
    assert main(["train", "--resume", run, "--quiet"]) == 0
    for name, data in reference["sgns"].items():
        assert open(os.path.join(run, name), "rb").read() == data, name


def test_signals_wait_while_the_finished_training_is_rescued(corpus, reference, tmp_path, monkeypatch, capsys):
    """A third signal, sent while the checkpoint of the finished training is written, does not cut it short."""
    import jaxembed.checkpoint
    run = os.fspath(tmp_path / "run")
    real_save = jaxembed.checkpoint.Checkpointer.save

    def save_under_fire(self, state, position):
        send((INT,))
        return real_save(self, state, position)
    with monkeypatch.context() as patch:
        patch.setattr(*signalling(jaxembed.fit, "save_word2vec", (TERM, INT)))
        patch.setattr(jaxembed.checkpoint.Checkpointer, "save", save_under_fire)
        assert main(["train", "--corpus", corpus, "--out", run, "--quiet", "--checkpoint-every", "0", *FLAGS["sgns"]]) == 130
    assert "--resume" in capsys.readouterr().err and os.path.exists(checkpoint_path(run))
    assert main(["train", "--resume", run, "--quiet"]) == 0
    assert open(os.path.join(run, "vectors.txt"), "rb").read() == reference["sgns"]["vectors.txt"]


def test_a_resume_refused_for_its_corpus_keeps_the_saved_corpus(corpus, tmp_path, capsys):
    run = os.fspath(tmp_path / "run")
    interrupted_run(corpus, run, FLAGS["sgns"])
    other = tmp_path / "other.txt"
    other.write_text(open(corpus).read()[::-1])
    assert main(["train", "--resume", run, "--corpus", os.fspath(other), "--quiet"]) == 2
    assert main(["train", "--resume", run, "--quiet"]) == 0


def test_a_missing_parent_directory_is_an_output_error(tmp_path):
    from jaxembed.errors import OutputFileError
    from jaxembed.io.atomic import atomic_open
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(OutputFileError, match="its directory cannot be made: Not a directory"):
        with atomic_open(tmp_path / "f" / "a" / "b" / "x.txt"):
            pass
