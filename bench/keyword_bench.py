"""The pure cost of the high-risk keyword flag (高风险客诉识别) per message: `find` (normalise + one automaton pass +
the boundary checks) against the largest list a manager may configure, 5,000 keywords (the defaults plus regulators,
courts, media and law firms of many cities, in Chinese and English), over the labelled evaluation messages and over
long messages of 500 characters. The same messages against the defaults alone show what the list's size costs.

The target holds for messages as they come (the evaluation set: a sentence or two). The long ones are the labelled
messages run together, so each carries several threats, Traditional, full-width and zero-width spellings at once: a
worst case that shows how the cost grows with length."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.domain.risk_keywords import DEFAULT_EXCEPTIONS, DEFAULT_KEYWORDS, MAX_KEYWORDS, RiskKeywords, normalise

MESSAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "risk_messages.jsonl"
LONG_CHARS = 500
ROUNDS = 40
"""Each message is timed this many times; the mean and p99 are over every timing."""
MESSAGE_TARGET_US = 50.0
"""A flag computed at intake, on every message of every ticket, must be a sliver of the request."""
TARGET_SET = "evaluation messages"

CITIES = (
    "北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "无锡", "宁波", "温州", "绍兴", "嘉兴",
    "湖州", "金华", "台州", "合肥", "芜湖", "蚌埠", "福州", "厦门", "泉州", "漳州", "南昌", "赣州", "九江", "济南",
    "青岛", "烟台", "潍坊", "临沂", "淄博", "郑州", "洛阳", "开封", "新乡", "南阳", "武汉", "宜昌", "襄阳", "荆州",
    "长沙", "株洲", "湘潭", "岳阳", "衡阳", "南宁", "柳州", "桂林", "海口", "三亚", "成都", "绵阳", "德阳", "宜宾",
    "泸州", "贵阳", "遵义", "昆明", "大理", "丽江", "拉萨", "西安", "咸阳", "宝鸡", "延安", "兰州", "天水", "西宁",
    "银川", "乌鲁木齐", "喀什", "呼和浩特", "包头", "鄂尔多斯", "沈阳", "大连", "鞍山", "抚顺", "锦州", "长春",
    "吉林", "延边", "哈尔滨", "齐齐哈尔", "大庆", "牡丹江", "石家庄", "唐山", "保定", "邯郸", "秦皇岛", "太原",
    "大同", "运城", "东莞", "佛山", "珠海", "中山", "惠州", "汕头", "江门", "湛江", "肇庆", "茂名", "梅州", "徐州",
    "常州", "扬州", "镇江", "泰州", "盐城", "淮安", "连云港", "宿迁", "南通", "舟山", "丽水", "衢州", "安庆",
    "黄山", "阜阳", "六安", "莆田", "三明", "龙岩", "宁德", "上饶", "景德镇", "萍乡", "威海", "日照", "济宁",
    "泰安", "德州", "聊城", "菏泽", "安阳", "焦作", "许昌", "周口", "信阳", "十堰", "黄石", "孝感", "常德", "郴州",
    "邵阳", "怀化", "北海", "钦州", "玉林", "攀枝花", "乐山", "南充", "达州", "六盘水", "安顺", "曲靖", "玉溪",
    "汉中", "榆林", "渭南", "酒泉", "张掖", "克拉玛依", "赤峰", "通辽", "丹东", "营口", "四平", "通化", "佳木斯",
    "张家口", "承德", "沧州", "廊坊", "衡水", "临汾", "晋中", "长治", "香港", "澳门", "台北", "高雄", "台中",
    "新竹",
)  # fmt: skip
CITY_BODIES = (
    "市场监管局", "市场监督管理局", "消费者协会", "消协", "12345热线", "电视台", "日报", "晚报", "广播电台",
    "中级人民法院", "公安局", "律师事务所", "仲裁委员会", "信访局", "质监局", "新闻频道", "法律援助中心",
    "都市频道", "民生热线", "消保委", "政务热线", "晨报",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
STATES = (
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida",
    "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine",
    "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska",
    "nevada", "ohio", "oklahoma", "oregon", "pennsylvania", "tennessee", "texas", "utah", "vermont", "virginia",
    "washington", "wisconsin", "wyoming",
)  # fmt: skip
STATE_BODIES = (
    "attorney general", "consumer protection division", "department of consumer affairs", "small claims court",
)  # fmt: skip
TOWNS = (
    "boston", "chicago", "houston", "phoenix", "dallas", "austin", "denver", "seattle", "portland", "atlanta",
    "miami", "orlando", "tampa", "detroit", "cleveland", "pittsburgh", "baltimore", "nashville", "memphis",
    "louisville", "milwaukee", "omaha", "tulsa", "albuquerque", "tucson", "sacramento", "fresno", "san diego",
    "san jose", "oakland", "las vegas", "salt lake city", "kansas city", "st louis", "indianapolis", "columbus",
    "cincinnati", "charlotte", "raleigh", "richmond", "buffalo", "rochester", "hartford", "providence", "london",
    "manchester", "birmingham", "leeds", "glasgow", "edinburgh", "liverpool", "bristol", "cardiff", "belfast",
    "sheffield", "newcastle", "nottingham", "leicester", "toronto", "vancouver", "sydney", "melbourne", "brisbane",
    "perth", "auckland", "dublin", "singapore",
)  # fmt: skip
TOWN_BODIES = (
    "news", "times", "herald", "tribune", "police department", "district court", "county court", "tv news",
)  # fmt: skip
LAW_FIRMS = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
    "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee",
    "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    messages: int
    mean_us: float
    p99_us: float


@dataclass(frozen=True, slots=True)
class KeywordFigures:
    keywords: int
    first_characters: int  # distinct first characters of the normalised keywords
    compile_ms: float
    large: tuple[Timing, ...]  # against the 5,000 keywords
    defaults: tuple[Timing, ...]  # the same messages against DEFAULT_KEYWORDS


def keyword_list(size: int = MAX_KEYWORDS) -> list[str]:
    """The defaults, then the regulators, media and courts of many cities and states and the law firms a complaint
    may name, until `size` keywords distinct once normalised."""
    generated = itertools.chain(
        (f"{city}{body}" for body in CITY_BODIES for city in CITIES),
        (f"{surname}律师" for surname in SURNAMES),
        (f"{state} {body}" for body in STATE_BODIES for state in STATES),
        (f"{town} {body}" for body in TOWN_BODIES for town in TOWNS),
        (f"{name} & associates" for name in LAW_FIRMS),
        (f"{name} law firm" for name in LAW_FIRMS),
    )
    chosen: list[str] = []
    seen: set[str] = set()
    for keyword in itertools.chain(DEFAULT_KEYWORDS, generated):
        folded = normalise(keyword)
        if folded not in seen:
            seen.add(folded)
            chosen.append(keyword)
        if len(chosen) == size:
            return chosen
    raise ValueError(f"only {len(chosen)} distinct keywords can be generated, not {size}")


def messages() -> dict[str, list[str]]:
    """The evaluation messages, and long ones (each language's messages run together and cut at LONG_CHARS)."""
    rows = [json.loads(line) for line in MESSAGES.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_language = {lang: [row["text"] for row in rows if row["lang"] == lang] for lang in ("zh", "en")}
    return {
        TARGET_SET: [row["text"] for row in rows],
        "long zh": _long(by_language["zh"], ""),
        "long en": _long(by_language["en"], " "),
    }


def _long(texts: Sequence[str], joiner: str, count: int = 60) -> list[str]:
    stream = itertools.cycle(texts)
    runs = []
    for _ in range(count):
        parts: list[str] = []
        while sum(map(len, parts)) < LONG_CHARS:
            parts.append(next(stream))
        runs.append(joiner.join(parts)[:LONG_CHARS])
    return runs


def run(size: int = MAX_KEYWORDS, rounds: int = ROUNDS) -> KeywordFigures:
    """Builds and compiles (timed, once) a list of `size` keywords, then times `find` on every message, `rounds`
    times over, against that list and against the defaults."""
    keywords = keyword_list(size)
    started = time.perf_counter_ns()
    large = RiskKeywords.compile(keywords, DEFAULT_EXCEPTIONS)
    compile_ms = (time.perf_counter_ns() - started) / 1e6
    defaults = RiskKeywords.compile(DEFAULT_KEYWORDS, DEFAULT_EXCEPTIONS)
    sets = messages()
    return KeywordFigures(
        keywords=len(keywords),
        first_characters=len({normalise(keyword)[0] for keyword in keywords}),
        compile_ms=compile_ms,
        large=tuple(_time(label, large, texts, rounds) for label, texts in sets.items()),
        defaults=tuple(_time(label, defaults, texts, rounds) for label, texts in sets.items()),
    )


def _time(label: str, matcher: RiskKeywords, texts: Sequence[str], rounds: int) -> Timing:
    for text in texts:  # warm up: fail here, not as a timing
        matcher.find(text)
    timings = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text in texts:
            started = clock()
            matcher.find(text)
            timings.append(clock() - started)
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * len(timings)))]
    return Timing(label, len(texts), statistics.fmean(timings) / 1000, p99 / 1000)


def lines(figures: KeywordFigures) -> list[str]:
    out = [
        f"high-risk keyword flag: {figures.keywords:,} keywords ({figures.first_characters:,} distinct first "
        f"characters) compiled in {figures.compile_ms:.0f} ms; normalise + find per message, mean / p99:"
    ]
    for large, default in zip(figures.large, figures.defaults, strict=True):
        verdict = (
            f"target mean < {MESSAGE_TARGET_US:.0f} µs: {'met' if large.mean_us < MESSAGE_TARGET_US else 'NOT MET'}"
            if large.label == TARGET_SET
            else f"{large.mean_us / LONG_CHARS * 100:.1f} µs per 100 characters"
        )
        out.append(
            f"  {large.label} ({large.messages}): {large.mean_us:.1f} / {large.p99_us:.1f} µs ({verdict}); "
            f"against the {len(DEFAULT_KEYWORDS)} defaults {default.mean_us:.1f} / {default.p99_us:.1f} µs"
        )
    return out


def failures(figures: KeywordFigures) -> list[str]:
    return [
        f"FAILED the keyword flag took {timing.mean_us:.0f} µs per message on {timing.label}"
        for timing in figures.large
        if timing.label == TARGET_SET and timing.mean_us >= MESSAGE_TARGET_US
    ]


if __name__ == "__main__":
    print("\n".join(lines(run())))
