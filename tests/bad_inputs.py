"""Every bad input the command line is tried with: the files it needs, the arguments, and what the
message must say. tests/test_reliability.py checks each (exit status 2, the message, no traceback);
experiments/bad_input_table.py runs each as a real process and prints the README table."""
import gzip
import os

import msgpack

VALID_VECTORS = b"2 3\nfoo 1 2 3\nbar 4 5 6.5\n"
OLD_CHECKPOINT = msgpack.packb({"version": 1, "config": {}, "corpus": {}, "position": {}, "state": {}})
GOOD_CORPUS = b"the cat sat on the mat and the dog sat on the log\n" * 20
BINARY_VECTORS = b"2 2\nfoo " + b"\x00\x00\x80\x3f" * 2 + b"\nbar " + b"\x00\x00\x00\x40" * 2 + b"\n"

# (case, files {name: bytes}, argv with {d} = the case's directory, fragment the message must contain)
CASES = [
    ("corpus file missing", {}, "train --corpus {d}/missing.txt --out {d}/run", "does not exist"),
    ("corpus path is a directory", {"sub/x": b""}, "train --corpus {d}/sub --out {d}/run", "is a directory"),
    ("corpus file empty", {"empty.txt": b""}, "train --corpus {d}/empty.txt --out {d}/run", "contains no words"),
    ("corpus of whitespace only", {"blank.txt": b" \n\t\n"}, "train --corpus {d}/blank.txt --out {d}/run", "contains no words"),
    ("no word reaches min_count", {"rare.txt": b"a b c d\n"}, "train --corpus {d}/rare.txt --out {d}/run",
     "0 distinct word(s) occur at least min_count=5 times; training needs at least 2"),
    ("vocabulary of 1 word (negative sampling needs >= 2)", {"one.txt": b"a a a a a b\n"},
     "train --corpus {d}/one.txt --out {d}/run", "1 distinct word(s) occur at least min_count=5 times; training needs at least 2"),
    ("binary garbage as corpus", {"garbage.bin": bytes(range(256)) * 4}, "train --corpus {d}/garbage.bin --out {d}/run",
     "has a NUL byte at byte 0: it is not a text file"),
    ("truncated gzip corpus", {"cut.txt.gz": gzip.compress(GOOD_CORPUS)[:40]}, "train --corpus {d}/cut.txt.gz --out {d}/run",
     "is corrupt"),
    ("2 MB without whitespace", {"blob.txt": b"x" * (2 << 20)}, "train --corpus {d}/blob.txt --out {d}/run",
     "no whitespace in 2,097,152 bytes from byte 0"),
    ("--dim 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --dim 0", "dim must be >= 1, got 0"),
    ("--max-row-updates -1", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --max-row-updates -1",
     "max_row_updates must be >= 0 (0: no cap), got -1.0"),
    ("--shared-negatives for CBOW", {"c.txt": GOOD_CORPUS},
     "train --model cbow --corpus {d}/c.txt --out {d}/run --shared-negatives",
     "shared_negatives applies to skip-gram with negative sampling"),
    ("--window 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --window 0", "window must be >= 1, got 0"),
    ("--negative -1", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --negative -1",
     "negative must be >= 0, got -1"),
    ("--negative 0 without hierarchical softmax", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --negative 0",
     "negative must be >= 1 when hierarchical softmax is off, got 0"),
    ("--sample -1", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --sample -1", "sample must be >= 0, got -1.0"),
    ("--batch-size 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --batch-size 0",
     "batch_size must be >= 1, got 0"),
    ("--min-alpha above --alpha", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --alpha 0.01 --min-alpha 0.1",
     "min_alpha must be in [0, alpha=0.01], got 0.1"),
    ("--alpha 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --alpha 0", "alpha must be > 0, got 0.0"),
    ("--epochs 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --epochs 0", "epochs must be >= 1, got 0"),
    ("--min-count 0", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --min-count 0",
     "min_count must be >= 1, got 0"),
    ("glove with a word2vec flag", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --model glove --negative 5",
     "settings ['negative'] do not apply to model 'glove'"),
    ("glove --alpha (GloVe C's name of the weighting exponent)", {"c.txt": GOOD_CORPUS},
     "train --corpus {d}/c.txt --out {d}/run --model glove --alpha 0.75",
     "settings ['alpha'] do not apply to model 'glove'; GloVe's learning rate is eta, and its weighting exponent"),
    ("glove --x-max -1", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --model glove --x-max -1",
     "x_max must be > 0, got -1.0"),
    ("config file missing", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --config {d}/none.yaml",
     "none.yaml' cannot be read"),
    ("config file with an unknown setting", {"c.txt": GOOD_CORPUS, "bad.yaml": b"dims: 10\n"},
     "train --corpus {d}/c.txt --out {d}/run --config {d}/bad.yaml", "unknown settings ['dims']"),
    ("--checkpoint-every -1", {"c.txt": GOOD_CORPUS}, "train --corpus {d}/c.txt --out {d}/run --checkpoint-every -1",
     "--checkpoint-every must be >= 0 seconds, got -1.0"),
    ("train without --corpus", {}, "train --out {d}/run", "--corpus and --out are required"),
    ("--resume a directory without checkpoint", {"run/vectors.txt": VALID_VECTORS}, "train --resume {d}/run",
     "no checkpoint to resume in"),
    ("--resume with a corrupt checkpoint", {"run/checkpoint.msgpack": b"\x93\x01garbage"}, "train --resume {d}/run",
     "checkpoint.msgpack' is corrupt"),
    ("--resume a checkpoint of another format version", {"run/checkpoint.msgpack": OLD_CHECKPOINT}, "train --resume {d}/run",
     "has format version 1, this jaxembed reads version 2: finish that run with the jaxembed that started it"),
    ("--resume with changed settings", {"run/checkpoint.msgpack": b""}, "train --resume {d}/run --dim 50",
     "--resume continues the run with its saved settings; drop dim"),
    ("fresh run into a directory holding a checkpoint", {"c.txt": GOOD_CORPUS, "run/checkpoint.msgpack": b""},
     "train --corpus {d}/c.txt --out {d}/run", "holds the checkpoint of an unfinished run"),
    ("--out is an existing file", {"c.txt": GOOD_CORPUS, "file": b"x"}, "train --corpus {d}/c.txt --out {d}/file", "File exists"),
    ("diverging run (--alpha 1e30)", {"c.txt": GOOD_CORPUS},
     "train --corpus {d}/c.txt --out {d}/run --min-count 1 --dim 8 --alpha 1e30 --quiet", "training diverged"),
    ("vectors file missing", {}, "eval {d}/missing.vec", "cannot read vectors file: No such file or directory"),
    ("vectors file empty", {"e.vec": b""}, "eval {d}/e.vec", "vectors file is empty"),
    ("header count above the lines", {"v.txt": b"3 2\na 1 2\nb 3 4\n"}, "eval {d}/v.txt",
     "header says 3 words but the file has 2 vector lines"),
    ("header dimension 0", {"v.txt": b"1 0\na\n"}, "eval {d}/v.txt", "header dimension must be positive, got 0"),
    ("a line with too few values", {"v.txt": b"2 2\na 1 2\nb 3\n"}, "eval {d}/v.txt", "line 3 ('b') has 1 values, expected 2"),
    ("a value that is not a number", {"v.txt": b"1 2\na 1 x\n"}, "eval {d}/v.txt", "a vector value is not a number"),
    ("duplicate word", {"v.txt": b"2 1\na 1\na 2\n"}, "eval {d}/v.txt", "word 'a' appears more than once"),
    ("invalid UTF-8 word (text)", {"v.txt": b"1 1\n\xff 1\n"}, "eval {d}/v.txt", "line 2 is not valid UTF-8"),
    ("truncated binary vectors", {"v.bin": BINARY_VECTORS[:-6]}, "eval {d}/v.bin",
     "truncated: header says 2 words, file ends in word 2"),
    ("bytes after the last binary vector", {"v.bin": BINARY_VECTORS + b"junk"}, "eval {d}/v.bin",
     "4 bytes follow the 2 words the header announces"),
    ("binary garbage as vectors", {"g.bin": bytes(range(256)) * 4}, "eval {d}/g.bin",
     "is neither a word2vec header '<vocab_size> <dim>' nor a GloVe line"),
    ("GloVe text with a short line", {"g.txt": b"a 1 2\nb 3\n"}, "eval {d}/g.txt", "line 2 ('b') has 1 values, expected 2"),
    ("--restrict-vocab 0", {"v.txt": VALID_VECTORS}, "eval {d}/v.txt --restrict-vocab 0", "--restrict-vocab must be >= 1, got 0"),
    ("convert a malformed file", {"v.txt": b"2 2\na 1 2\n"}, "convert {d}/v.txt {d}/out.bin --to binary",
     "header says 2 words but the file has 1 vector lines"),
    ("query word not in the vocabulary", {"v.txt": VALID_VECTORS}, "similar {d}/v.txt foo nope",
     "word 'nope' is not in the vocabulary (2 words)"),
    ("--topn 0", {"v.txt": VALID_VECTORS}, "similar {d}/v.txt foo --topn 0", "--topn must be >= 1, got 0"),
]


def materialise(directory: str, files: dict[str, bytes], argv: str) -> list[str]:
    """Create the case's files under `directory` and return its argv."""
    for name, data in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return argv.format(d=directory).split()
