"""The shared argument types of the ``lcne`` command line (lcne.experiments.cli_args)."""
import argparse
import math

import pytest

from lcne.experiments import cli_args as ca


@pytest.mark.parametrize("parse, text, expected", [
    (ca.int_list, "42,43, 44,", [42, 43, 44]),
    (ca.name_list, " ngm, sgd,,adam ", ["ngm", "sgd", "adam"]),
    (ca.float_list, "0,0.5,1e-3", (0.0, 0.5, 0.001)),
    (ca.number(int), "-3", -3),
    (ca.number(float), "2.5", 2.5),
    (ca.positive(int), "7", 7),
    (ca.positive(float), "1e-9", 1e-9),
    (ca.key_value, "eta=0.3", ("eta", 0.3)),
    (ca.key_value, " preset =phasic", ("preset", "phasic")),
    (ca.key_value, "expr=a=b", ("expr", "a=b")),
    (ca.numeric_key_value, "g_gap_nS=0.3", ("g_gap_nS", 0.3)),
    (ca.formats, "PDF, .png,svg", ["pdf", "png", "svg"]),
    (ca.iteration_range, "10:20", slice(10, 20)),
    (ca.iteration_range, ":5", slice(None, 5)),
])
def test_parsers_accept(parse, text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("parse, text, message", [
    (ca.int_list, "1,x", "'1,x' is not a comma-separated list of integers"),
    (ca.float_list, "1,x", "'1,x' is not a comma-separated list of numbers"),
    (ca.number(int), "1.5", "'1.5' is not a valid int"),
    (ca.number(float), "abc", "'abc' is not a valid float"),
    (ca.positive(float), "nan", "'nan' must be > 0"),
    (ca.positive(float), "-nan", "'-nan' must be > 0"),
    (ca.positive(float), "0", "'0' must be > 0"),
    (ca.positive(int), "-2", "'-2' must be > 0"),
    (ca.positive(int), "x", "'x' is not a valid int"),
    (ca.key_value, "eta", "'eta' is not KEY=VALUE"),
    (ca.numeric_key_value, "g=high", "'g=high': value must be a number"),
    (ca.formats, "pdf,jpg", "formats must be a comma list of pdf, png, svg"),
    (ca.formats, ",", "formats must be a comma list"),
    (ca.iteration_range, "10", "'10' is not START:STOP"),
])
def test_parsers_refuse_with_a_short_message(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        parse(text)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_number_keeps_the_type_name_for_argparse():
    assert ca.number(float).__name__ == "float" and ca.positive(int).__name__ == "int"
    assert math.isnan(ca.number(float)("nan"))  # range checks belong to the run configuration


def test_nwb_spec():
    assert ca.nwb_spec("f.nwb:s:ne") == ("f.nwb", "s", "ne", 0.0)
    with pytest.raises(ValueError, match="expected FILE:SERIES:SIGNAL"):
        ca.nwb_spec("f.nwb:s")
    with pytest.raises(ValueError, match="EVENT_S 'x' is not a number"):
        ca.nwb_spec("f.nwb:s:ne:x")


@pytest.mark.parametrize("argv, message", [
    (["--n", "nan"], "prog: error: argument --n: 'nan' must be > 0 (see prog --help)"),
    (["--seeds", "1,,z"], "prog: error: argument --seeds: '1,,z' is not a comma-separated list of integers"),
    (["--bogus"], "prog: error: unrecognized arguments: --bogus"),
])
def test_one_line_parser(argv, message, capsys):
    p = ca.OneLineParser(prog="prog")
    p.add_argument("--n", type=ca.positive(float))
    p.add_argument("--seeds", type=ca.int_list)
    with pytest.raises(SystemExit) as exc:
        p.parse_args(argv)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
