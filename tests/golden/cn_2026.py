"""国务院办公厅关于2026年部分节假日安排的通知, as published: the days each holiday closes (weekend days inside a break
listed too where the notice counts them, e.g. all nine days of 春节) and the 调休 weekend days worked instead. Data
for the golden-file generators, typed in from the notice and never computed."""

from __future__ import annotations

CLOSED = {
    "元旦": ["2026-01-01", "2026-01-02", "2026-01-03"],
    "春节": [f"2026-02-{day}" for day in range(15, 24)],
    "清明节": ["2026-04-04", "2026-04-05", "2026-04-06"],
    "劳动节": [f"2026-05-0{day}" for day in range(1, 6)],
    "端午节": ["2026-06-19", "2026-06-20", "2026-06-21"],
    "中秋节": ["2026-09-25", "2026-09-26", "2026-09-27"],
    "国庆节": [f"2026-10-0{day}" for day in range(1, 8)],
}
WORKED = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
