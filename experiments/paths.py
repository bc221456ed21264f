"""Locations the experiment scripts share: their results folder and the benchmark corpus's default path."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(HERE, "results")
PDCORPUS = os.path.join(HERE, "..", "..", "shared", "data", "pdcorpus.txt.gz")
