"""Knowledge base search (知识库检索) at 10,000 and 100,000 live articles, on SQLite and on PostgreSQL (target: p99
< 50 ms), and what indexing costs: articles published per second through the service, and what a new version of a
live article adds.

The corpus is generated from after-sales language: 40 products in Chinese and English with model codes, 24
problems, sentences on refunds, exchanges, repairs, delivery, invoices and warranty; four articles in five in
Chinese, one in English; most public. The queries are of every kind customers and agents type, from one Chinese
character (tens of thousands of candidates) through common two-character words (退款: about a sixth of the corpus)
to narrow phrases, English words, model codes mixed with Chinese, Traditional and full-width spellings, and
queries that find nothing. Each is timed in-process as the service answers it (parse, the database's index, the
portable ranking, the first page of 10 with its articles and snippets), as an agent (internal articles included),
after one untimed call. The HTTP layer adds the constant cost the `get` scenario measures.

Articles beyond those published through the service are bulk-loaded: the same rows the service writes (the article,
its version, its search row from `SearchDocument.of`), inserted in batches; SQLite's FTS5 triggers and PostgreSQL's
GIN index keep their indexes as they would for published articles."""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from app.domain.clock import SystemClock
from app.domain.ids import new_id
from app.domain.kb_articles import Article, ArticleVersion, Content, Language, Visibility
from app.domain.kb_search import SearchDocument, SearchQuery
from app.domain.pagination import PageRequest
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.persistence.migrations import upgrade_to_head
from app.persistence.tables import kb_article_versions, kb_articles, kb_search
from app.services.kb_articles import ArticleDraft
from app.settings import Settings
from app.web.wiring import Services, build_services
from bench.database import throwaway_database
from bench.timings import Timing

log = logging.getLogger(__name__)

SIZES = (10_000, 100_000)
TARGET_P99_MS = 50.0
ROUNDS = 10
"""Each query is timed this many times at each size, after one untimed call."""
PUBLISHED = 300
"""Articles written, submitted and approved through the service (three write transactions each), timed."""
NEW_VERSIONS = 100
"""Live articles given a new version (an edit, which goes to review while the old version stays live, then its
approval, which re-indexes the article), timed."""
BATCH = 2_000
AGENT = Principal("kb-bench-agent", frozenset({Role.AGENT}))
MANAGER = Principal("kb-bench-manager", frozenset({Role.MANAGER}))

PRODUCTS = (  # Chinese name, English name, model code
    ("空气净化器", "air purifier", "AP-X3"), ("扫地机器人", "robot vacuum", "RV-S9"),
    ("洗碗机", "dishwasher", "DW-60"), ("电热水器", "water heater", "WH-80"), ("蓝牙耳机", "bluetooth earbuds", "BE-2"),
    ("冰箱", "refrigerator", "RF-500"),
    ("烤箱", "oven", "OV-30"), ("吹风机", "hair dryer", "HD-7"), ("电动牙刷", "electric toothbrush", "ET-1"),
    ("加湿器", "humidifier", "HM-4"), ("咖啡机", "coffee machine", "CM-2"), ("投影仪", "projector", "PJ-8"),
    ("洗衣机", "washing machine", "WM-10"), ("烘干机", "tumble dryer", "TD-9"), ("微波炉", "microwave", "MW-25"),
    ("电饭煲", "rice cooker", "RC-5"), ("净水器", "water purifier", "WP-75"), ("油烟机", "range hood", "RH-90"),
    ("燃气灶", "gas stove", "GS-2"), ("空调", "air conditioner", "AC-35"), ("电视", "television", "TV-65"),
    ("路由器", "router", "RT-6"), ("智能门锁", "smart lock", "SL-3"), ("摄像头", "camera", "CAM-4"),
    ("音箱", "speaker", "SP-1"), ("平板电脑", "tablet", "TB-11"), ("笔记本电脑", "laptop", "LT-14"),
    ("手机", "phone", "PH-15"), ("智能手表", "smart watch", "SW-7"), ("电动车", "e-bike", "EB-48"),
    ("剃须刀", "shaver", "SH-3"), ("料理机", "blender", "BL-8"), ("豆浆机", "soymilk maker", "SM-2"),
    ("电风扇", "electric fan", "EF-16"), ("取暖器", "heater", "HT-22"), ("除湿机", "dehumidifier", "DH-20"),
    ("按摩椅", "massage chair", "MC-1"), ("跑步机", "treadmill", "TM-5"), ("婴儿推车", "stroller", "ST-2"),
    ("床垫", "mattress", "MT-18"),
)  # fmt: skip
PROBLEMS = (
    ("无法开机", "will not power on"), ("漏水", "leaking"), ("异响", "strange noise"), ("换货申请", "exchange request"),
    ("保修期限", "warranty period"), ("退款到账", "refund arrival"), ("屏幕不亮", "blank screen"),
    ("充电很慢", "slow charging"), ("遥控失灵", "remote not working"), ("安装预约", "installation booking"),
    ("配件缺失", "missing parts"), ("物流延迟", "delivery delay"), ("发票开具", "invoice request"),
    ("外观破损", "damaged on arrival"), ("噪音太大", "too loud"), ("温度异常", "wrong temperature"),
    ("连接不上", "cannot connect"), ("异味", "bad smell"), ("自动关机", "shuts down"), ("按键失灵", "buttons stuck"),
    ("滤芯更换", "filter replacement"), ("上门维修", "home repair"), ("错发漏发", "wrong item sent"),
    ("价格保护", "price protection"),
)  # fmt: skip
CATEGORIES = ("维修", "退款", "换货", "安装", "物流", "发票", "保修")
ZH_SENTENCES = (
    "退款审核通过后原路退回，微信和支付宝一到三个工作日到账。", "换货需保持商品及配件完好，包装可不完整。",
    "如需上门维修，请在小程序提交预约并保持电话畅通。", "保修期内非人为损坏免费维修，超出保修期按标准收费。",
    "签收时请当面检查外观，破损请拒收并联系客服。", "电子发票在订单完成后二十四小时内发送到邮箱。",
    "物流信息超过三天未更新时，客服会联系快递公司核实。", "请先断电十分钟再重新通电，观察指示灯是否正常。",
    "安装师傅上门前会电话确认时间，安装费用以收费标准为准。", "七天无理由退货不影响二次销售的商品均可申请。",
    "质量问题退换货的运费由我们承担。", "请拍摄故障视频并上传，便于工程师远程判断。",
    "会员积分会在退款后相应扣回。", "价格保护期内降价可申请退还差价。", "滤芯建议每六个月更换一次。",
    "如仍未解决，请联系在线客服或拨打服务热线。", "工单处理进度可在我的服务中查看。",
    "补发的配件会在四十八小时内发出。", "部分偏远地区的上门服务需要额外预约。", "请勿自行拆机，否则影响保修。",
)  # fmt: skip
EN_SENTENCES = (
    "Refunds go back to the original payment method within three working days.",
    "Exchanges need the product and its accessories complete.", "Book a home repair in the app and keep your phone on.",
    "Repairs within the warranty are free unless the damage was caused by use.",
    "Check the parcel when it arrives and refuse it if it is damaged.",
    "The electronic invoice is emailed within a day of completion.",
    "Unplug the device for ten minutes and plug it in again.", "Contact support if the problem persists.",
    "Our engineer will call before the visit to confirm the time.", "Return shipping is on us for quality problems.",
)  # fmt: skip
QUERIES = (
    ("1 character", ("净", "碗", "修", "票")),
    ("2 characters, common", ("退款", "维修", "发票", "物流")),
    ("2 characters, narrow", ("耳机", "牙刷", "咖啡", "门锁")),
    ("3-4 characters", ("洗碗机", "无法开机", "电热水器", "换货申请")),
    ("5+ characters", ("空气净化器", "扫地机器人漏水", "价格保护期内降价")),
    ("English", ("refund", "water heater", "leaking", "warranty")),
    ("model code and Chinese", ("AP-X3 漏水", "RV-S9 异响", "dishwasher 漏水")),
    ("Traditional, full-width", ("退貨", "熱水器", "ＲＥＦＵＮＤ")),
    ("nothing found", ("量子纠缠", "zzyzx")),
)


@dataclass(frozen=True, slots=True)
class SizeFigures:
    articles: int
    load_per_second: float  # bulk-loaded articles per second on the way to this size
    kinds: tuple[Timing, ...]  # one per kind of query

    @property
    def overall(self) -> Timing:
        return Timing("all queries", [sample for kind in self.kinds for sample in kind.samples_ms])


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    database: str
    sizes: tuple[SizeFigures, ...]
    publish: Timing  # create + submit + approve, per article
    new_version: Timing  # edit + submit + approve of a live article, per article


async def measure() -> list[DatabaseFigures]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="aftersales-kb-bench-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'kb.db'}"
        await asyncio.to_thread(upgrade_to_head, url)
        figures.append(await _measure("SQLite", url))
    async with throwaway_database() as url:
        figures.append(await _measure("PostgreSQL", url))
    return figures


async def _measure(database: str, url: str) -> DatabaseFigures:
    services = build_services(Settings(env="development", database_url=url, log_level="WARNING"), SystemClock())
    try:
        log.info("%s: publishing %d articles through the service", database, PUBLISHED)
        publish, published = await _publish(services)
        new_version = await _new_versions(services, published[:NEW_VERSIONS])
        sizes, loaded = [], PUBLISHED
        articles = _articles(random.Random(7))
        for size in SIZES:
            log.info("%s: bulk-loading to %s articles", database, f"{size:,}")
            started = time.perf_counter()
            await _load(services, articles, size - loaded)
            rate = (size - loaded) / (time.perf_counter() - started)
            loaded = size
            log.info("%s: timing %d queries at %s articles", database, sum(len(q) for _, q in QUERIES), f"{size:,}")
            sizes.append(SizeFigures(size, rate, await _time_queries(services)))
        return DatabaseFigures(database, tuple(sizes), publish, new_version)
    finally:
        await services.aclose()


def _articles(rnd: random.Random) -> Iterator[tuple[Language, Content]]:
    while True:
        (product, product_en, model), (problem, problem_en) = rnd.choice(PRODUCTS), rnd.choice(PROBLEMS)
        category = rnd.choice(CATEGORIES)
        visibility = Visibility.PUBLIC if rnd.random() < 0.85 else Visibility.INTERNAL
        if rnd.random() < 0.8:
            title = f"{product}{problem}{rnd.choice(('怎么办', '的处理方法', '常见问题', '解决办法'))}"
            body = "\n\n".join([f"{model} {product}出现{problem}时：", *rnd.sample(ZH_SENTENCES, rnd.randint(3, 7))])
            yield Language.ZH_CN, Content(title, body, category, (problem, category), (model,), visibility)
        else:
            title = f"{product_en.title()}: {problem_en}"
            body = "\n\n".join([f"When your {model} {product_en} shows {problem_en}:", *rnd.sample(EN_SENTENCES, 4)])
            yield Language.EN, Content(title, body, category, (problem_en,), (model,), visibility)


async def _publish(services: Services) -> tuple[Timing, list[Article]]:
    articles, samples, published = _articles(random.Random(3)), [], []
    for _ in range(PUBLISHED):
        language, content = next(articles)
        started = time.perf_counter()
        view = await services.kb_articles.create(AGENT, ArticleDraft(language, content))
        await services.kb_articles.act(AGENT, view.article.id, "submit", {}, NO_PRECONDITION)
        live = await services.kb_articles.act(MANAGER, view.article.id, "approve", {}, NO_PRECONDITION)
        samples.append((time.perf_counter() - started) * 1000)
        published.append(live.article)
    return Timing("publish (create, submit, approve)", samples), published


async def _new_versions(services: Services, live: list[Article]) -> Timing:
    samples = []
    for article in live:
        started = time.perf_counter()
        edit = {"body": "更新：退款审核通过后原路退回，银行卡三到七个工作日到账。"}
        await services.kb_articles.act(AGENT, article.id, "edit", edit, NO_PRECONDITION)
        await services.kb_articles.act(MANAGER, article.id, "approve", {}, NO_PRECONDITION)
        samples.append((time.perf_counter() - started) * 1000)
    return Timing("new version (edit, approve)", samples)


async def _load(services: Services, articles: Iterator[tuple[Language, Content]], count: int) -> None:
    """`count` live articles as the service writes them, in batches, each batch one transaction."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    engine = services.database.write_engine
    for offset in range(0, count, BATCH):
        rows: tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]] = ([], [], [])
        for n in range(min(BATCH, count - offset)):
            language, content = next(articles)
            at = start + timedelta(seconds=offset + n)
            article = Article(
                id=new_id(), status="published", language=language, business_line=None, translation_of=None,
                created_by=AGENT.subject, current_version=1, live_version=1, version=3, created_at=at,
                updated_at=at, approved_by=MANAGER.subject, published_at=at,
            )  # fmt: skip
            version = ArticleVersion(article.id, 1, content, AGENT.subject, at)
            document = SearchDocument.of(article, version, 0)
            rows[0].append({**asdict(article), "language": language.value})
            rows[1].append(
                {
                    "article_id": article.id, "number": 1, "title": content.title, "body": content.body,
                    "category": content.category, "tags": list(content.tags),
                    "product_lines": list(content.product_lines), "visibility": content.visibility.value,
                    "author": AGENT.subject, "created_at": at,
                }
            )  # fmt: skip
            rows[2].append({**asdict(document), "language": language.value, "visibility": content.visibility.value})
        async with engine.begin() as conn:
            for table, batch in zip((kb_articles, kb_article_versions, kb_search), rows, strict=True):
                await conn.execute(insert(table), batch)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))


async def _time_queries(services: Services) -> tuple[Timing, ...]:
    kinds = []
    for kind, texts in QUERIES:
        samples = []
        for query_text in texts:
            for round_ in range(ROUNDS + 1):
                started = time.perf_counter()
                await services.kb_search.search(AGENT, SearchQuery.parse(query_text), PageRequest(limit=10))
                if round_:
                    samples.append((time.perf_counter() - started) * 1000)
        kinds.append(Timing(kind, samples))
    return tuple(kinds)


def lines(figures: list[DatabaseFigures]) -> list[str]:
    out = []
    for f in figures:
        out.append(
            f"kb {f.database}: publish {1000 / statistics.mean(f.publish.samples_ms):.0f} articles/s through the "
            f"service ({f.publish.label}: p50 {f.publish.percentile(50):.1f} ms, p99 {f.publish.percentile(99):.1f} "
            f"ms); {f.new_version.label}: p50 {f.new_version.percentile(50):.1f} ms, p99 "
            f"{f.new_version.percentile(99):.1f} ms"
        )
        for size in f.sizes:
            overall = size.overall
            out.append(
                f"kb {f.database} search at {size.articles:,} articles (bulk-loaded {size.load_per_second:,.0f}/s): "
                f"p50 {overall.percentile(50):.1f} ms, p99 {overall.percentile(99):.1f} ms over "
                f"{len(overall.samples_ms)} searches (target p99 < {TARGET_P99_MS:.0f} ms: {_verdict(overall)})"
            )
            out += [
                f"  {kind.label:<24} p50 {kind.percentile(50):6.1f} ms  p99 {kind.percentile(99):6.1f} ms"
                for kind in size.kinds
            ]
    return out


def _verdict(t: Timing) -> str:
    return "met" if t.percentile(99) < TARGET_P99_MS else "NOT MET"


def failures(figures: list[DatabaseFigures]) -> list[str]:
    return [
        f"FAILED kb search on {f.database} at {size.articles:,} articles: p99 {size.overall.percentile(99):.1f} ms "
        f"(target < {TARGET_P99_MS:.0f} ms)"
        for f in figures
        for size in f.sizes
        if _verdict(size.overall) != "met"
    ]
