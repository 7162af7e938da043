"""The run store's serialisation rule, without S3: which format each object gets, round trips,
and what is refused before anything is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_sfn.runstore import DatasetNotSerialisable, RunScopedDataset, choose_format, decode


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "parquet"),
        # parquet would turn other column names into strings: such a frame is pickled instead.
        (pd.DataFrame({0: [1.5], 1: [2.5]}), "cloudpickle"),
        (np.arange(6, dtype="float32").reshape(2, 3), "npy"),
        (np.array([{"a": 1}, None], dtype=object), "cloudpickle"),
        (pd.Series([1, 2, 3], name="y"), "cloudpickle"),
        ({"nested": [1, {"x": 2}]}, "cloudpickle"),
        (lambda v: v + 1, "cloudpickle"),
    ],
)
def test_each_object_gets_its_format_and_comes_back(data, expected) -> None:
    fmt, payload = choose_format(data)
    assert fmt == expected
    back = decode(fmt, payload)
    if callable(data):
        assert back(1) == 2
    elif isinstance(data, pd.DataFrame):
        pd.testing.assert_frame_equal(back, data)
    elif isinstance(data, pd.Series):
        pd.testing.assert_series_equal(back, data)
    elif isinstance(data, np.ndarray) and data.dtype != object:
        assert back.dtype == data.dtype and back.tolist() == data.tolist()
    else:
        assert repr(back) == repr(data)


def test_a_lazy_query_is_refused_even_though_it_would_pickle() -> None:
    """polars is not installed here: a class that sits where polars' LazyFrame does stands in."""
    lazy_frame = type("LazyFrame", (), {"__module__": "polars.lazyframe.frame"})
    dataset = RunScopedDataset("big_query", "s3://runs/p/sm", "exec-1", producer="scan", consumers=("use",))
    with pytest.raises(DatasetNotSerialisable) as raised:
        dataset.save(lazy_frame())
    message = str(raised.value)
    assert "Dataset 'big_query' (written by node 'scan', read by 'use' in another Lambda)" in message
    assert "holds polars.lazyframe.frame.LazyFrame" in message
    assert "a lazy polars query (LazyFrame); call .collect() in the node" in message
    assert "type: polars.LazyPolarsDataset" in message
    assert "`group-by: memory`" in message
