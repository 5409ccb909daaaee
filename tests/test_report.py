"""lowrank_utils.report: the one table renderer (HTML and Markdown, both languages)."""
from __future__ import annotations

import pytest

from lowrank_utils.report import HEADERS_ZH, Table, format_cell, markdown_table

ROWS = [{"method": "full", "trainable": 12345, "loss B": 0.000123456, "flag": True},
        {"method": "LoRA r=2", "trainable": 678, "loss B": 0.5, "flag": False}]


def test_markdown_table_has_bilingual_headers_and_formatted_cells():
    lines = markdown_table(ROWS, {"loss B": ".2e"}).splitlines()
    assert lines[0] == (f"| method / {HEADERS_ZH['method']} | trainable / {HEADERS_ZH['trainable']}"
                        f" | loss B / {HEADERS_ZH['loss B']} | flag |")
    assert lines[1] == "|---|---|---|---|"
    assert lines[2] == "| full | 12,345 | 1.23e-04 | True |"
    assert lines[3] == "| LoRA r=2 | 678 | 5.00e-01 | False |"


def test_format_cell_rules():
    assert format_cell(1234567) == "1,234,567"            # ints: thousands separators
    assert format_cell(3.14159265) == "3.142"             # other numbers: 4 significant digits
    assert format_cell(0.5, ".1%") == "50.0%"             # a spec wins
    assert format_cell(True, ".2f") == "True"             # a bool is not a number here
    assert format_cell("x", ".2f") == "x"


def test_table_shows_the_same_rows_as_html_and_markdown():
    shown = Table(ROWS, {"loss B": ".2e"})
    assert str(shown) == shown._repr_markdown_() == repr(shown) == markdown_table(ROWS, {"loss B": ".2e"})
    page = shown._repr_html_()
    assert page.startswith('<table class="table"><thead><tr><th>method / 方法</th>')
    assert page.count("<tr>") == 1 + len(ROWS) and "<td>1.23e-04</td>" in page


def test_table_escapes_text_unless_told_it_is_markup():
    assert "<td>&lt;b&gt;</td>" in Table([{"x": "<b>"}])._repr_html_()
    page = Table([{"<i>x</i>": '<span class="lang-en">a</span>'}], markup=True,
                 css_class="table lora-budget")._repr_html_()
    assert '<table class="table lora-budget">' in page
    assert "<th><i>x</i></th>" in page and '<td><span class="lang-en">a</span></td>' in page


def test_table_bad_input():
    with pytest.raises(ValueError, match="at least one row"):
        Table([])
    with pytest.raises(ValueError, match="at least one row"):
        markdown_table([])
    with pytest.raises(TypeError, match="markup must be True or False"):
        Table(ROWS, markup="yes")


def _peer(shape, k, method, dtype, seconds, ratio=None, error=1.0001, available=True):
    return {"shape": list(shape), "k": k, "method": method, "dtype": dtype, "available": available,
            "median_s": seconds if available else None, "ours_over_peer": ratio if available else None,
            "ours_over_peer_q1_q3": [ratio * 0.9, ratio * 1.1] if available and ratio else None,
            "error_ratio": error if available else None}


def test_svd_peer_rows_group_by_case_and_mark_a_missing_peer():
    from lowrank_utils.report import svd_peer_cases, svd_peer_rows
    bench = {"peers": [
        _peer((40, 30), 2, "ours", "float64", 0.010), _peer((40, 30), 2, "ours", "float32", 0.006),
        _peer((40, 30), 2, "torch.svd_lowrank", "float64", 0.020, ratio=0.5),
        _peer((40, 30), 2, "sklearn randomized_svd", "float64", None, available=False),
    ]}
    assert list(svd_peer_cases(bench)) == [((40, 30), 2)]
    (row,) = svd_peer_rows(bench)
    assert row["matrix, k / 矩陣、k"] == "40×30, k = 2"
    assert row["ours, float64 / 本書，float64"] == "10 ms" and row["ours, float32 / 本書，float32"] == "6 ms"
    assert row["torch.svd_lowrank"] == "20 ms; 0.50× (0.45–0.55)"
    assert row["scikit-learn"] == "not installed / 未安裝"
    assert row["error ratio (ours; torch; sklearn) / 誤差比（本書；torch；sklearn）"] == "1.000100; 1.000100; —"
