"""Config settings of any type or size: every config either validates, with each setting of its declared type,
or is refused with a ConfigError naming the setting (and the file) — from Python, YAML and the command line."""
import dataclasses
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from jaxembed.cli import main
from jaxembed.config import (CONFIG_CLASSES, MODELS, FastTextConfig, GloveConfig, Word2VecConfig, config_fields,
                             load_config, make_config, setting_types)
from jaxembed.errors import ConfigError, InputFileError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EDGES = [0, 1, -1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, -2**63 - 1, 10**18, 10**400]
PLAUSIBLE = st.one_of(st.integers(1, 20), st.floats(0.001, 1), st.booleans(), st.none())
WILD = st.one_of(
    st.integers(), st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e-4", "5", "2.0", "nan", "-inf", "1e999", "yes", "no", "true", " 0.5 ", "1_000", "w", "w+c"]),
    st.text(max_size=8), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def mostly(likely: st.SearchStrategy, rarely: st.SearchStrategy) -> st.SearchStrategy:
    """`likely` four times in five, else `rarely` (st.one_of would weigh each of their branches alike)."""
    return st.integers(0, 4).flatmap(lambda i: rarely if i == 0 else likely)


VALUES = mostly(PLAUSIBLE, WILD)


@st.composite
def config_settings(draw) -> dict:
    """Settings mostly named as the drawn model's fields, sometimes as another model's or as none."""
    model = draw(mostly(st.sampled_from([*MODELS, None]), WILD))
    cls = CONFIG_CLASSES[model] if model in MODELS else Word2VecConfig
    own = st.sampled_from(sorted(f.name for f in dataclasses.fields(cls)))
    names = mostly(own, st.one_of(st.sampled_from(sorted(config_fields())), st.text(max_size=8)))
    table = draw(st.dictionaries(names, VALUES, max_size=4))
    return table if model is None else {**table, "model": model}


def assert_well_typed(config) -> None:
    """Each setting holds its declared type, and the resolved config is rebuilt from its dict (as a checkpoint)."""
    for name, (_, kind, optional) in setting_types(type(config)).items():
        value = getattr(config, name)
        assert (optional and value is None) or type(value) is kind, (name, value)
        assert kind is not float or value is None or math.isfinite(value)
    resolved = config.resolved()
    assert make_config(dataclasses.asdict(resolved)) == resolved


@FUZZ
@given(table=config_settings())
def test_any_settings_validate_or_raise_config_error(table):
    try:
        config = make_config(table)
    except ConfigError:
        return
    assert_well_typed(config)


@FUZZ
@given(table=config_settings())
def test_any_yaml_file_validates_or_raises_config_error(table, tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(table))
    try:
        config = load_config(path)
    except ConfigError as e:
        assert "fuzz.yaml" in str(e)
        return
    assert_well_typed(config)


def yaml_config(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path)


def test_yaml_exponent_without_dot_is_a_float(tmp_path):
    config = yaml_config(tmp_path, "sample: 1e-4\nalpha: 1\n")
    assert (config.sample, config.alpha) == (0.0001, 1.0) and type(config.alpha) is float


def test_yaml_booleans_and_01_are_switches(tmp_path):
    config = yaml_config(tmp_path, "hs: no\nnegative: 5\nshuffle: 1\nshrink_windows: off\n")
    assert (config.hs, config.shuffle, config.shrink_windows) == (False, True, False)


def test_null_only_where_optional(tmp_path):
    assert yaml_config(tmp_path, "max_vocab_size: null\n").max_vocab_size is None
    with pytest.raises(ConfigError, match="dim must be an integer, got None"):
        yaml_config(tmp_path, "dim: null\n")


@pytest.mark.parametrize("text,message", [
    ('hs: "no"\n', "hs must be true or false (1 or 0) or null, got 'no' (str)"),
    ("dim: true\n", "dim must be an integer, got True (bool)"),
    ("epochs: 1.5\n", "epochs must be an integer, got 1.5 (float)"),
    ("epochs: 2.0\n", "epochs must be an integer, got 2.0 (float)"),
    ("dim: '100'\n", "dim must be an integer, got '100' (str)"),
    ("sample: [0.1]\n", "sample must be a finite number, got [0.1] (list)"),
    ("sample: .nan\n", "sample must be a finite number, got nan"),
    ("alpha: 1e999\n", "alpha must be a finite number or null, got '1e999'"),
    ("shuffle: 2\n", "shuffle must be true or false (1 or 0), got 2 (int)"),
    ("seed: -1\n", "seed must be >= 0, got -1"),
    ("seed: 9223372036854775808\n", "seed must be <= 4294967295, got 9223372036854775808"),
    ("epochs: 1000000000000000000\n", "epochs must be <= 1000000, got 1000000000000000000"),
    ("model: fasttext\nbucket: 100000000000\n", "bucket must be <= 1073741824, got 100000000000"),
    ("dim: 4294967296\n", "dim must be <= 2147483647, got 4294967296"),
    ("model: glove\noutput: v\n", "output must be one of w+c, w, got 'v'"),
    ("model: [sgns]\n", "model must be one of sgns, cbow, sg-hs, cbow-hs, glove, fasttext, ppmi, svd, got ['sgns']"),
    ("1: 2\n", "unknown settings [1]"),
])
def test_bad_yaml_setting_names_file_setting_and_value(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        yaml_config(tmp_path, text)
    assert message in str(error.value) and "c.yaml" in str(error.value)


@pytest.mark.parametrize("text,message", [
    ("- dim\n- 5\n", "must hold a mapping of settings"),
    ("0\n", "must hold a mapping of settings"),
    ("dim: [5\n", "cannot be read"),
    ("seed: 2020-13-01\n", "cannot be read"),
    ("[" * 1000 + "]" * 1000, "cannot be read"),
])
def test_yaml_that_is_no_mapping_is_refused(tmp_path, text, message):
    with pytest.raises(InputFileError, match=message) as error:
        yaml_config(tmp_path, text)
    assert "c.yaml" in str(error.value) and "\n" not in str(error.value)


def test_empty_yaml_gives_the_defaults(tmp_path):
    assert yaml_config(tmp_path, "# nothing\n") == Word2VecConfig()


@pytest.mark.parametrize("build,message", [
    (lambda: Word2VecConfig(dim="100"), "dim must be an integer"),
    (lambda: Word2VecConfig(seed=-1), "seed must be >= 0"),
    (lambda: Word2VecConfig(seed=2**63), "seed must be <= 4294967295"),
    (lambda: GloveConfig(epochs=10**18), "epochs must be <= 1000000"),
    (lambda: FastTextConfig(bucket=10**11), "bucket must be <= 1073741824"),
    (lambda: FastTextConfig(cbow="yes"), "cbow must be true or false"),
    (lambda: Word2VecConfig(min_alpha=float("inf")), "min_alpha must be a finite number"),
])
def test_python_construction_is_checked(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_python_construction_converts_only_the_unambiguous():
    config = Word2VecConfig(sample=0, alpha="0.5", seed=2**32 - 1, hs=1)
    assert (config.sample, config.alpha, config.seed, config.hs) == (0.0, 0.5, 2**32 - 1, True)
    assert type(config.sample) is float and type(config.hs) is bool


@pytest.mark.parametrize("argv,message", [
    (["train", "--corpus", "c.txt", "--out", "run", "--seed", "-1"], "seed must be >= 0, got -1"),
    (["train", "--corpus", "c.txt", "--out", "run", "--seed", str(2**63)], "seed must be <= 4294967295"),
    (["train", "--corpus", "c.txt", "--out", "run", "--epochs", str(10**18)], "epochs must be <= 1000000"),
    (["train", "--corpus", "c.txt", "--out", "run", "--model", "fasttext", "--bucket", str(10**11)],
     "bucket must be <= 1073741824"),
    (["train", "--corpus", "c.txt", "--out", "run", "--sample", "nan"], "sample must be a finite number"),
    (["train", "--corpus", "c.txt", "--out", "run", "--config", "c.yaml"], "c.yaml': hs must be true or false"),
    (["demo", "--seed", "-1"], "seed must be >= 0, got -1"),
    (["demo", "--epochs", str(10**18)], "epochs must be <= 1000000"),
])
def test_cli_refuses_extremes_with_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("the cat sat on the mat\n" * 20)
    (tmp_path / "c.yaml").write_text('hs: "no"\n')
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
