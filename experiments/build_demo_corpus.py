"""Build the demo corpus shipped in jaxembed/data/wordnet.txt.gz from Debian's `wordnet-base`.

    apt-get install wordnet-base && python experiments/build_demo_corpus.py

One line per WordNet 3.0 synset: its lemmas followed by its gloss (definition and examples),
lowercased and reduced to a-z words like text8. WordNet 3.0 is distributed under the
WordNet licence (permissive, BSD-style); see jaxembed/data/WORDNET_LICENSE.
"""
import gzip
import os
import re
import sys

WORDNET_DIR = "/usr/share/wordnet"
OUT_PATH = os.path.join(os.path.dirname(__file__), "..", "jaxembed", "data", "wordnet.txt.gz")
NON_LETTERS = re.compile(rb"[^a-z]+")


def synset_line_to_text(line: bytes) -> bytes:
    """`offset lex_filenum ss_type w_cnt word lex_id ... | gloss` -> `lemmas gloss` in text8 form."""
    fields, _, gloss = line.partition(b"|")
    parts = fields.split()
    word_count = int(parts[3], 16)
    lemmas = b" ".join(parts[4 + 2 * i] for i in range(word_count))
    text = (lemmas + b" " + gloss).lower().replace(b"_", b" ")
    return NON_LETTERS.sub(b" ", text).strip()


def main() -> None:
    lines = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET_DIR, f"data.{pos}"), "rb") as f:
            lines += [synset_line_to_text(l) for l in f if not l.startswith(b"  ")]
    with gzip.GzipFile(OUT_PATH, "wb", compresslevel=9, mtime=0) as f:
        f.write(b"\n".join(l for l in lines if l) + b"\n")
    words = sum(len(l.split()) for l in lines)
    print(f"wrote {OUT_PATH}: {len(lines)} lines, {words} words", file=sys.stderr)


if __name__ == "__main__":
    main()
