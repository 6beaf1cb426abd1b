"""A generated after-sales knowledge base and its labelled queries: 12 products × 6 problems, each topic written as
a zh-CN article and its en translation, and queries of every kind customers type (product and problem in Chinese,
Traditional characters, one distinctive character, model codes mixed with Chinese, English words, full-width
English), each labelled with the titles of the articles that answer it."""

from __future__ import annotations

from dataclasses import dataclass

from opencc import OpenCC

PRODUCTS = (  # Chinese name, a character no other product, problem or filler holds, English name, model code
    ("空气净化器", "净", "air purifier", "AP-X3"),
    ("扫地机器人", "扫", "robot vacuum", "RV-S9"),
    ("洗碗机", "碗", "dishwasher", "DW-60"),
    ("电热水器", "热", "water heater", "WH-80"),
    ("蓝牙耳机", "耳", "bluetooth earbuds", "BE-2"),
    ("冰箱", "冰", "refrigerator", "RF-500"),
    ("烤箱", "烤", "oven", "OV-30"),
    ("吹风机", "吹", "hair dryer", "HD-7"),
    ("电动牙刷", "牙", "electric toothbrush", "ET-1"),
    ("加湿器", "湿", "humidifier", "HM-4"),
    ("咖啡机", "咖", "coffee machine", "CM-2"),
    ("投影仪", "投", "projector", "PJ-8"),
)
PROBLEMS = (
    ("无法开机", "power"),
    ("漏水", "leak"),
    ("异响", "noise"),
    ("换货申请", "exchange"),
    ("保修期限", "warranty"),
    ("退款到账", "refund"),
)
ZH_FILLER = "请先断电检查，如仍未解决请联系客服。"
EN_FILLER = "Check the manual first and contact support if it persists."
_S2T = OpenCC("s2t")
SYNONYMS = (  # terms no article holds, each in a group with a problem's words: queries find them only through it
    ("保修期限", "质保", "guarantee"),
    ("漏水", "渗水"),
    ("异响", "噪音", "noise"),
    ("warranty", "waranty"),
    ("refund", "退钱"),
)
"""The synonym groups the evaluation configures: Chinese ↔ Chinese, English ↔ Chinese both ways, a misspelling."""


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    body: str
    tags: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    kind: str
    relevant: frozenset[str]


def zh_title(product: str, problem: str) -> str:
    return f"{product}{problem}怎么办"


def en_title(product: str, problem: str) -> str:
    return f"{product.title()} {problem} help"


def corpus() -> list[Article]:
    articles = []
    for zh, _char, en, model in PRODUCTS:
        for problem_zh, problem_en in PROBLEMS:
            body_zh = f"型号 {model} 的{zh}出现{problem_zh}时：{ZH_FILLER}"
            articles.append(Article(zh_title(zh, problem_zh), body_zh, (zh, problem_zh), "zh-CN"))
            body_en = f"If your {en} ({model}) has a {problem_en} problem: {EN_FILLER}"
            articles.append(Article(en_title(en, problem_en), body_en, (en, problem_en), "en"))
    return articles


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text.upper())


def queries() -> list[Query]:
    found: list[Query] = []
    for zh, char, en, model in PRODUCTS:
        zh_articles = frozenset(zh_title(zh, p) for p, _ in PROBLEMS)
        en_articles = frozenset(en_title(en, e) for _, e in PROBLEMS)
        found += [
            Query(char, "chinese-1", zh_articles),
            Query(zh, "chinese-product", zh_articles),
            Query(_S2T.convert(zh), "traditional", zh_articles),
            Query(en, "english", en_articles),
            Query(model, "model", zh_articles | en_articles),
        ]
        for problem_zh, problem_en in PROBLEMS:
            zh_topic, en_topic = frozenset({zh_title(zh, problem_zh)}), frozenset({en_title(en, problem_en)})
            found += [
                Query(f"{zh}{problem_zh}", "chinese-phrase", zh_topic),
                Query(_S2T.convert(f"{zh}{problem_zh}"), "traditional", zh_topic),
                Query(f"{model}{problem_zh}", "mixed", zh_topic),
                Query(f"{en} {problem_en}", "english", en_topic),
                Query(full_width(f"{en} {problem_en}"), "full-width", en_topic),
            ]
    for zh, _char, en, _model in PRODUCTS:
        found += [
            Query(f"{zh} 质保", "synonym", frozenset({zh_title(zh, "保修期限")})),
            Query(f"{zh} 渗水", "synonym", frozenset({zh_title(zh, "漏水")})),
            Query(f"{zh} 噪音", "synonym", frozenset({zh_title(zh, "异响")})),
            Query(f"{zh} guarantee", "synonym-en-zh", frozenset({zh_title(zh, "保修期限")})),
            Query(f"{zh} noise", "synonym-en-zh", frozenset({zh_title(zh, "异响")})),
            Query(f"{en} 退钱", "synonym-zh-en", frozenset({en_title(en, "refund")})),
            Query(f"{en} waranty", "synonym-typo", frozenset({en_title(en, "warranty")})),
        ]
    for problem_zh, problem_en in PROBLEMS:
        found.append(Query(problem_zh, "chinese-problem", frozenset(zh_title(p[0], problem_zh) for p in PRODUCTS)))
        found.append(Query(problem_en, "english", frozenset(en_title(p[2], problem_en) for p in PRODUCTS)))
    return found
