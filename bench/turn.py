"""Turn bench: where a turn's milliseconds go, and the load figures of issue 14, against Rasa's
starter bot (`make bench BENCH=turn`, about 8 minutes).

1. Profile. Our Rasa server and action server are started with `bench/profiling/site` on
   PYTHONPATH and MADOGUCHI_TURN_PROFILE set, so both write each turn's timed spans (see
   bench/profiling); product code is untouched. One conversation at a time, turn after turn, on
   a warm server: conversations of notice questions, request conversations from first words to
   the ticket, and long conversations (a greeting, 47 notice questions, then a request). Printed:
   the mean milliseconds per turn of each cost centre (channel guard, NLU, tracker store read
   and write, policies, each action-server call — payload, JSON, transport, the action server's
   parsing, the action's own work — logging, …) for notice answers and form turns early in a
   conversation (turn ≤ 12, about the fifth) and late (turn ≥ 40, about the fiftieth), and per
   action the request's size in bytes (Rasa sends the whole tracker and the domain; the notice
   answers get the current turn only, see madoguchi.rasa_adapters.fast_paths).
2. Load, without the profiler, ours and then the baseline, the same load generator (async HTTP
   to /webhooks/rest/webhook, one conversation per customer; when a customer's script ends the
   next conversation starts under a new sender id):
   (a) paced: 20 customers, each one turn every 2 s, for 30 s: turns/s, p50/p95/p99, errors;
   (b) saturation: 8 and 20 customers without pause, 20 s each: turns/s, p50/p95/p99;
   (c) one conversation of 60 turns (three times, the median per turn): median turn over turns
       1–10, 21–30, 51–60, and turn 50 / turn 5 (the medians of turns 48–52 and 3–7, which
       ask the same questions: the ratio is the conversation's length, not the text's cost).
   Ours: SQLite tracker store, our action server, models/current.tar.gz; scripts from the held-out
   sets (eval/nlu_heldout_requests.yml greetings and request openings, eval/notice_questions.yml
   questions; each request walked once first to learn which questions the form asks, then
   replayed to the ticket). The baseline: `rasa init --no-prompt` in
   ~/.cache/madoguchi/starter/<hash of Rasa's template>/ (trained once, reused), served with its
   own action server and a SQLite tracker store, its own greet/mood lines for scripts of the same
   length; its stories call no custom action, so its turns make no action-server call.
   Errors: HTTP errors and timeouts, and our retry message.

Printed as tables with ratios ours/baseline and the issue's targets; saved in bench/out/turn.json.
Environment (defaults in brackets): MADOGUCHI_BENCH_TURN_PACED_CUSTOMERS [20],
MADOGUCHI_BENCH_TURN_PACED_INTERVAL [2] s, MADOGUCHI_BENCH_TURN_PACED_SECONDS [30],
MADOGUCHI_BENCH_TURN_SATURATION [8,20] customers, MADOGUCHI_BENCH_TURN_SATURATION_SECONDS [20],
MADOGUCHI_BENCH_TURN_LONG_TURNS [60], MADOGUCHI_BENCH_TURN_LONG_REPEATS [3],
MADOGUCHI_BENCH_TURN_PROFILE_CONVERSATIONS [3] (short ones of each kind; half as many long),
MADOGUCHI_BENCH_TURN_BASELINE [1] (0: ours only), MADOGUCHI_BENCH_TURN_STORE [our
DurableSQLTrackerStore] (the tracker store type of ours; `SQL`: Rasa's, for a before/after).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import rasa
import yaml

from bench.common import (
    OUT,
    ROOT,
    get_json,
    load_nlu_examples,
    percentile,
    post_json,
    table,
    write_json,
)
from bench.profiling import report
from madoguchi.infra.db import upgrade
from madoguchi.rasa_adapters.resilience import retry_text
from madoguchi.runtime.drills import ANSWERS
from madoguchi.runtime.launcher import (
    Launcher,
    Service,
    action_service,
    free_port,
    rasa_service,
)

RASA = Path(sys.executable).parent / "rasa"
# Our Rasa server's API wants a token (the launcher's); the starter bot's, as `rasa init` makes
# it, has none and ignores the parameter.
API_TOKEN = secrets.token_urlsafe(16)
PROFILE_SITE = ROOT / "bench" / "profiling" / "site"
STARTER_CACHE = Path.home() / ".cache" / "madoguchi" / "starter"
STARTER_CYCLE = ["greet", "mood_unhappy", "deny", "greet", "mood_great", "bot_challenge",
                 "affirm", "goodbye"]
EARLY, LATE = 12, 40


def _env(name: str, default: str) -> str:
    return os.environ.get(f"MADOGUCHI_BENCH_TURN_{name}", default)


@dataclass(frozen=True)
class Settings:
    paced_customers: int = 20
    paced_interval: float = 2.0
    paced_seconds: float = 30.0
    saturation: tuple[int, ...] = (8, 20)
    saturation_seconds: float = 20.0
    long_turns: int = 60
    long_repeats: int = 3
    profile_conversations: int = 3
    baseline: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            paced_customers=int(_env("PACED_CUSTOMERS", "20")),
            paced_interval=float(_env("PACED_INTERVAL", "2")),
            paced_seconds=float(_env("PACED_SECONDS", "30")),
            saturation=tuple(int(n) for n in _env("SATURATION", "8,20").split(",") if n),
            saturation_seconds=float(_env("SATURATION_SECONDS", "20")),
            long_turns=int(_env("LONG_TURNS", "60")),
            long_repeats=int(_env("LONG_REPEATS", "3")),
            profile_conversations=int(_env("PROFILE_CONVERSATIONS", "3")),
            baseline=_env("BASELINE", "1") == "1",
        )


# --- figures ----------------------------------------------------------------------------------

def latency_row(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    """Throughput and latency of the turns answered within `seconds`."""
    return {
        "turns": len(latencies),
        "turns_per_s": len(latencies) / seconds if seconds > 0 else float("nan"),
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "errors": errors,
    }


def per_turn_medians(conversations: list[list[float]]) -> list[float]:
    """Turn k's latency: the median over the repeated conversations that reached turn k."""
    longest = max((len(c) for c in conversations), default=0)
    return [statistics.median([c[k] for c in conversations if len(c) > k])
            for k in range(longest)]


def window_median(per_turn: list[float], first: int, last: int) -> float:
    """Median latency of turns first..last (1-based, inclusive)."""
    chosen = per_turn[first - 1:last]
    return statistics.median(chosen) if chosen else float("nan")


TURN5 = (3, 7)
TURN50 = (48, 52)


def long_script(lines: list[str], offset: int, turns: int) -> list[str]:
    """A long conversation's lines from offset on, turns 48–52 asking what turns 3–7 asked.

    Questions differ in cost (a long question, a section of many lines): with other questions at
    turn 50 than at turn 5, turn 50 / turn 5 would mix the text's cost with the conversation's
    length. Asked the same questions, the two windows differ by the conversation's length alone.
    """
    texts = [lines[(offset + k) % len(lines)] for k in range(turns)]
    (a, b), (c, d) = TURN5, TURN50
    if turns >= d:
        texts[c - 1:d] = texts[a - 1:b]
    return texts


def growth(per_turn: list[float]) -> dict[str, float]:
    """The long conversation's figures: medians over three stretches, turn 50 / turn 5."""
    turn5, turn50 = window_median(per_turn, *TURN5), window_median(per_turn, *TURN50)
    return {
        "turns_1_10_ms": window_median(per_turn, 1, 10),
        "turns_21_30_ms": window_median(per_turn, 21, 30),
        "turns_51_60_ms": window_median(per_turn, 51, 60),
        "turn5_ms": turn5, "turn50_ms": turn50, "turn50_over_turn5": turn50 / turn5,
    }


# --- the two bots -------------------------------------------------------------------------------

@dataclass
class Bot:
    """A project to serve: where it lives, its model, and how its customers talk."""

    name: str
    root: Path
    model: Path
    credentials: Path
    tables: bool = False  # madoguchi's own tables (tickets) in a SQLite file beside the tracker
    ours: bool = True  # our servers as `make run` starts them; else `rasa run (actions)`
    conversations: list[list[str]] = field(default_factory=list)
    long_lines: list[str] = field(default_factory=list)

    def script(self, i: int) -> list[str]:
        return self.conversations[i % len(self.conversations)]


def starter_hash() -> str:
    """Rasa's `rasa init` template and version: the starter bot is retrained when they change."""
    template = Path(rasa.__file__).parent / "cli" / "initial_project"
    digest = hashlib.sha256(rasa.__version__.encode())
    for path in sorted(p for p in template.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(template)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_starter() -> Path:
    """`rasa init --no-prompt` (which trains) once per template, kept in the cache."""
    home = STARTER_CACHE / starter_hash()
    if not list(home.glob("models/*.tar.gz")):
        STARTER_CACHE.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="init-", dir=STARTER_CACHE))
        print(f"training the baseline (rasa init) in {building}", flush=True)
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(building)],
                       cwd=building, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
        shutil.rmtree(home, ignore_errors=True)
        os.replace(building, home)  # whole or not at all
    return home


def starter_bot(home: Path, script_lengths: list[int]) -> Bot:
    """The baseline, with conversations of its own lines as long as ours."""
    lines: dict[str, list[str]] = {}
    for text, intent in load_nlu_examples([home / "data" / "nlu.yml"]):
        lines.setdefault(intent, []).append(text)
    counters = dict.fromkeys(lines, 0)

    def say(intent: str) -> str:
        counters[intent] += 1
        return lines[intent][counters[intent] % len(lines[intent])]

    conversations = [[say(STARTER_CYCLE[k % len(STARTER_CYCLE)]) for k in range(n)]
                     for n in script_lengths]
    long_lines = [say(STARTER_CYCLE[k % len(STARTER_CYCLE)]) for k in range(200)]
    model = sorted(home.glob("models/*.tar.gz"))[-1]
    return Bot("starter", home, model, home / "credentials.yml", ours=False,
               conversations=conversations, long_lines=long_lines)


def our_model() -> Path:
    model = ROOT / "models" / "current.tar.gz"
    if not model.exists():
        raise SystemExit("models/current.tar.gz is missing: run `make train` first")
    return model.resolve()


@contextmanager
def serve(bot: Bot, work: Path, profile: Path | None = None) -> Iterator[str]:
    """The bot's Rasa server and action server on a fresh SQLite tracker store; the URL."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "tracker.db"
    rasa_port, action_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    # Our action server answers only Rasa's calls carrying this run's token (Rasa reads it from
    # the environment, as in endpoints.yml), and gets the domain only for the forms'
    # validations (endpoints.yml); the starter bot's knows no token and gets Rasa's default.
    token = ("\n  token: ${MADOGUCHI_ACTION_TOKEN}\n  enable_selective_domain: true"
             if bot.ours else "")
    # Ours: the embedded profile's tracker store (endpoints.yml); the starter bot: Rasa's.
    store = _env("STORE", "madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore"
                 ) if bot.ours else "SQL"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"{token}\n'
        f"tracker_store:\n  type: {store}\n  dialect: sqlite\n"
        f"  db: {db}\n", encoding="utf-8")
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
           "MADOGUCHI_ACTION_TOKEN": secrets.token_urlsafe(16),
           # The bench's customers type faster than people (60 turns back to back): the channel's
           # rate limits would refuse them; their check still runs in every turn.
           "MADOGUCHI_RATE_PER_SENDER": "1000000", "MADOGUCHI_RATE_PER_ADDRESS": "1000000"}
    if bot.tables:
        upgrade(f"sqlite:///{work / 'madoguchi.db'}")
        env["MADOGUCHI_DB_URL"] = f"sqlite:///{work / 'madoguchi.db'}"
    if profile is not None:
        env.update({
            "PYTHONPATH": os.pathsep.join(
                [str(PROFILE_SITE), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "MADOGUCHI_TURN_PROFILE": str(profile),
            "MADOGUCHI_TURN_PROFILE_ROOT": str(ROOT),
        })
    launcher = Launcher(bot.root, work / "logs", env=env)
    actions = action_service(bot.root, port=action_port) if bot.ours else Service(
        "actions", [str(RASA), "run", "actions", "--actions", "actions", "--port",
                    str(action_port)], f"http://127.0.0.1:{action_port}/health")
    if bot.ours:
        server = rasa_service(bot.root, bot.model, endpoints, port=rasa_port,
                              credentials=bot.credentials, auth_token=API_TOKEN)
    else:
        server = Service("rasa", [
            str(RASA), "run", "--enable-api", "--model", str(bot.model), "--endpoints",
            str(endpoints), "--credentials", str(bot.credentials), "--interface", "127.0.0.1",
            "--port", str(rasa_port)], f"http://127.0.0.1:{rasa_port}/status")
    actions.env["MADOGUCHI_TURN_PROFILE_ROLE"] = "actions"
    server.env["MADOGUCHI_TURN_PROFILE_ROLE"] = "rasa"
    launcher.start(actions)
    launcher.start(server)
    try:
        launcher.wait_ready([actions, server], timeout=400)
        url = f"http://127.0.0.1:{rasa_port}"
        wait_for_model(url, server)
        yield url
    finally:
        launcher.stop_all()


def wait_for_model(url: str, server: Service, timeout: float = 400.0) -> None:
    """Rasa answers /status before its model is loaded (409); wait until it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = get_json(f"{url}/status?token={API_TOKEN}", timeout=5)
            if isinstance(status, dict) and status.get("model_file"):
                return
        except OSError:
            pass
        if server.process is not None and server.process.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"Rasa did not load its model; see {server.log_path}")


# --- our conversations --------------------------------------------------------------------------

def walk_request(url: str, opening: str) -> list[str] | None:
    """One request from `opening` to its ticket, asking the tracker what the form wants.

    The messages sent, to replay later without looking at the tracker; None when the opening
    did not lead to a ticket (the held-out wording was read as something else).
    """
    sender, token = new_session(url)
    sent: list[str] = []

    def say(text: str) -> dict:
        post_json(f"{url}/webhooks/rest/webhook", message(sender, text, token), timeout=60)
        sent.append(text)
        slots = get_json(f"{url}/conversations/{sender}/tracker?token={API_TOKEN}")["slots"]
        assert isinstance(slots, dict)
        return slots

    slots = say(opening)
    if slots.get("request_stage") == "confirming":
        slots = say("はい")
    for _ in range(12):
        asked = slots.get("requested_slot")
        if asked is None:
            break
        slots = say(ANSWERS.get(asked, "なし"))
    if slots.get("request_stage") != "summary":
        return None
    slots = say("/affirm")
    return sent if slots.get("ticket_reference") else None


def parsed_as(url: str, texts: list[str], prefix: str) -> list[str]:
    """The texts our NLU reads as an intent starting with `prefix` (no fallback)."""
    kept = []
    for text in texts:
        intent = post_json(f"{url}/model/parse?token={API_TOKEN}", {"text": text})["intent"]["name"]
        if str(intent).startswith(prefix):
            kept.append(text)
    return kept


@dataclass
class OurLines:
    greetings: list[str]
    notice: list[str]
    requests: list[list[str]]


def our_lines(url: str, wanted_requests: int = 6) -> OurLines:
    """Held-out messages our NLU reads as meant, and request scripts walked to a ticket."""
    heldout = load_nlu_examples([ROOT / "eval" / "nlu_heldout_requests.yml"])
    greetings = parsed_as(url, [t for t, i in heldout if i == "greet"], "greet")
    questions = yaml.safe_load((ROOT / "eval" / "notice_questions.yml").read_text("utf-8"))
    notice = parsed_as(url, [q["text"] for q in questions], "notice_")
    openings = [t for t, i in heldout if i.startswith("request_") and i != "request_purpose_notice"]
    random.Random(14).shuffle(openings)
    scripts: list[list[str]] = []
    for opening in openings:
        if len(scripts) == wanted_requests:
            break
        walked = walk_request(url, opening)
        if walked:
            scripts.append(walked)
    if not (greetings and notice and scripts):
        raise SystemExit("the held-out sets gave no usable greeting, question or request")
    return OurLines(greetings, notice, scripts)


def our_conversations(lines: OurLines, count: int = 20) -> list[list[str]]:
    """A greeting, two notice questions, a request to its ticket (which pauses the bot)."""
    n = len(lines.notice)
    return [[lines.greetings[i % len(lines.greetings)], lines.notice[(2 * i) % n],
             lines.notice[(2 * i + 1) % n], *lines.requests[i % len(lines.requests)]]
            for i in range(count)]


def profile_conversations(lines: OurLines, count: int) -> list[list[str]]:
    """Short notice chats, request chats, and long chats ending in a request."""
    n = len(lines.notice)
    chats: list[list[str]] = []
    for i in range(count):
        chats.append([lines.greetings[i % len(lines.greetings)],
                      *[lines.notice[(i * 7 + k) % n] for k in range(6)]])
        chats.append(lines.requests[i % len(lines.requests)])
    for i in range(max(1, (count + 1) // 2)):
        chats.append([lines.greetings[i % len(lines.greetings)],
                      *[lines.notice[(i * 47 + k) % n] for k in range(47)],
                      *lines.requests[(i + 1) % len(lines.requests)]])
    return chats


# --- the load generator -------------------------------------------------------------------------

@dataclass
class Customer:
    """One customer's conversations: a new one (a new sender id) each time the script ends."""

    script: list[str]
    step: int = 0
    sender: str = ""
    token: str | None = None

    def next_text(self) -> tuple[str, bool]:
        """The next message, and whether it opens a new conversation."""
        opens = self.step % len(self.script) == 0
        text = self.script[self.step % len(self.script)]
        self.step += 1
        return text, opens


def new_session(url: str) -> tuple[str, str | None]:
    """A conversation as the chat widget opens one: our channel issues the sender id and its
    session token (GET /webhooks/rest/session); a channel without that (the starter bot's)
    takes any sender id."""
    try:
        issued = get_json(f"{url}/webhooks/rest/session", timeout=30)
        if isinstance(issued, dict) and issued.get("session_token"):
            return str(issued["sender"]), str(issued["session_token"])
    except (OSError, ValueError):
        pass
    return f"turn-{uuid.uuid4().hex[:12]}", None


def message(sender: str, text: str, token: str | None) -> dict[str, str]:
    body = {"sender": sender, "message": text}
    if token:
        body["session_token"] = token
    return body


class Load:
    """Async HTTP to the REST webhook; every turn's latency and the errors seen."""

    def __init__(self, url: str) -> None:
        self.base = url
        self.url = f"{url}/webhooks/rest/webhook"
        self.retry = retry_text()

    async def __aenter__(self) -> Load:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def session(self) -> tuple[str, str | None]:
        """A new conversation's sender id and session token (see `new_session`)."""
        try:
            async with self.http.get(f"{self.base}/webhooks/rest/session") as response:
                issued = await response.json(content_type=None)
                if response.status == 200 and isinstance(issued, dict) \
                        and issued.get("session_token"):
                    return str(issued["sender"]), str(issued["session_token"])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            pass
        return f"turn-{uuid.uuid4().hex[:12]}", None

    async def turn(self, sender: str, text: str, token: str | None) -> tuple[float, bool]:
        """(milliseconds, ok) for one message."""
        start = time.perf_counter()
        try:
            async with self.http.post(self.url, json=message(sender, text, token)) as response:
                body = await response.json(content_type=None)
                ok = response.status == 200 and isinstance(body, list) and not any(
                    m.get("text") == self.retry for m in body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            ok = False
        return (time.perf_counter() - start) * 1000, ok

    async def say(self, person: Customer) -> tuple[float, bool]:
        """The customer's next message (opening a conversation first when it starts one)."""
        text, opens = person.next_text()
        if opens:
            person.sender, person.token = await self.session()
        return await self.turn(person.sender, text, person.token)

    async def paced(self, bot: Bot, customers: int, interval: float, seconds: float) -> dict:
        """Each customer one turn every `interval` s (staggered); turns sent within `seconds`."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        latencies: list[float] = []
        errors = 0

        async def customer(i: int) -> None:
            nonlocal errors
            person = Customer(bot.script(i))
            k = 0
            while (at := start + i * interval / customers + k * interval) < start + seconds:
                await asyncio.sleep(max(0.0, at - loop.time()))
                ms, ok = await self.say(person)
                latencies.append(ms)
                errors += not ok
                k += 1

        await asyncio.gather(*(customer(i) for i in range(customers)))
        return latency_row(latencies, errors, seconds)

    async def saturate(self, bot: Bot, customers: int, seconds: float) -> dict:
        """Customers without pause; only the turns answered within `seconds` count."""
        loop = asyncio.get_running_loop()
        stop = loop.time() + seconds
        latencies: list[float] = []
        errors = 0

        async def customer(i: int) -> None:
            nonlocal errors
            person = Customer(bot.script(i))
            while loop.time() < stop:
                ms, ok = await self.say(person)
                if loop.time() <= stop:
                    latencies.append(ms)
                    errors += not ok

        # The turns under way at the end are waited for, not counted: a client hanging up
        # mid-turn would make Rasa log the message (and the next run meet a busy server).
        await asyncio.wait_for(asyncio.gather(*(customer(i) for i in range(customers))),
                               timeout=seconds + 120)
        return latency_row(latencies, errors, seconds)

    async def conversation(self, texts: list[str]) -> tuple[str, list[float], int]:
        """One conversation, turn after turn: its sender, each turn's latency, the errors."""
        sender, token = await self.session()
        latencies, errors = [], 0
        for text in texts:
            ms, ok = await self.turn(sender, text, token)
            latencies.append(ms)
            errors += not ok
        return sender, latencies, errors


async def measure_load(url: str, bot: Bot, settings: Settings) -> dict:
    async with Load(url) as load:
        for i in range(3):  # warm-up
            await load.conversation(bot.script(i))
        paced = await load.paced(bot, settings.paced_customers, settings.paced_interval,
                                 settings.paced_seconds)
        print(f"  {bot.name}: paced {paced['turns_per_s']:.1f} turns/s, "
              f"p95 {paced['p95_ms']:.0f} ms", flush=True)
        saturation = {}
        for n in settings.saturation:
            saturation[n] = await load.saturate(bot, n, settings.saturation_seconds)
            print(f"  {bot.name}: {n} customers without pause "
                  f"{saturation[n]['turns_per_s']:.1f} turns/s", flush=True)
        runs, errors = [], 0
        for r in range(settings.long_repeats):
            texts = long_script(bot.long_lines, r * settings.long_turns, settings.long_turns)
            _, latencies, errs = await load.conversation(texts)
            runs.append(latencies)
            errors += errs
        per_turn = per_turn_medians(runs)
    return {"paced": paced, "saturation": saturation,
            "long": {**growth(per_turn), "errors": errors, "per_turn_ms": per_turn}}


# --- the profile --------------------------------------------------------------------------------

async def profile_turns(url: str, chats: list[list[str]]) -> dict[tuple[str, int], float]:
    """The chats one after another; client latency by (sender, turn position)."""
    seen: dict[tuple[str, int], float] = {}
    async with Load(url) as load:
        for texts in chats:
            sender, latencies, _ = await load.conversation(texts)
            for k, ms in enumerate(latencies, start=1):
                seen[(sender, k)] = ms
    return seen


def run_profile(lines: OurLines, settings: Settings) -> dict:
    """Our servers with the profiler; the profile chats after a warm-up; the cost tables."""
    spans_dir = OUT / "turn" / "spans"
    shutil.rmtree(spans_dir, ignore_errors=True)
    bot = Bot("ours", ROOT, our_model(), ROOT / "credentials.yml", tables=True)
    chats = profile_conversations(lines, settings.profile_conversations)
    with serve(bot, OUT / "turn" / "profile", profile=spans_dir) as url:
        asyncio.run(profile_turns(url, [[lines.greetings[0], *lines.notice[:3]],
                                        lines.requests[0]]))
        time.sleep(0.5)
        for path in spans_dir.glob("*.jsonl"):
            path.write_text("", encoding="utf-8")  # the warm-up does not count
        client = asyncio.run(profile_turns(url, chats))
        time.sleep(1.0)  # each turn's line is written just after its reply
    turns, calls = report.read_records(spans_dir)
    costs = report.turn_costs(turns, calls)
    for cost in costs:
        cost.client_ms = client.get((cost.sender, cost.position))
    return {"costs": costs, "cells": report.cells(costs, EARLY, LATE),
            "actions": report.per_action(costs)}


# --- printing -----------------------------------------------------------------------------------

def _fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.{digits}f}"
    return str(value)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and a == a and b == b else "-"


def print_profile(profile: dict) -> list[tuple[str, float]]:
    """The cost-centre table and the per-action table; returns the top cost centres."""
    cells: list[report.Cell] = profile["cells"]
    everything = report.cell("all profiled turns", profile["costs"])
    groups = [g for g, _ in report.top_groups(everything, 100)]
    columns = [c.label for c in cells] + ["all turns"]
    rows = []
    for group in groups:
        row = {"cost centre (mean ms per turn)": group}
        for c in [*cells, everything]:
            row[c.label if c is not everything else "all turns"] = (
                _fmt(c.groups.get(group, 0.0), 2) if c.turns else "-")
        rows.append(row)
    facts = [
        ("= Rasa server request (sum of the above)", "total_ms", 2),
        ("client latency", "client_ms", 2),
        ("turns profiled", "turns", 0),
        ("mean position in the conversation", "position", 1),
        ("events in the tracker after the turn", "events", 0),
        ("action-server calls per turn", "calls_per_turn", 2),
        ("bytes per action-server request", "request_bytes", 0),
        ("  of which the domain", "domain_bytes", 0),
    ]
    for label, attribute, digits in facts:
        row = {"cost centre (mean ms per turn)": label}
        for c in [*cells, everything]:
            value = getattr(c, attribute)
            row[c.label if c is not everything else "all turns"] = (
                _fmt(float(value), digits) if digits else f"{float(value):.0f}"
                if value == value else "-")
        rows.append(row)
    print(f"\nTurn profile: our Rasa + action server, one conversation at a time, warm; early = "
          f"turn ≤ {EARLY} of its conversation, late = turn ≥ {LATE}")
    print(table(rows, ["cost centre (mean ms per turn)", *columns]))
    action_rows = [{k: _fmt(v, 2 if k.endswith("_ms") else 0) for k, v in row.items()}
                   for row in profile["actions"]]
    print("\nAction-server calls (means): request bytes (domain part), Rasa-side payload build and"
          " JSON, round trip, the action server's own time, parse, Tracker.from_dict, the "
          "action's work")
    print(table(action_rows, ["action", "stage", "calls", "events", "bytes", "domain_bytes",
                              "build_ms", "json_ms", "round_trip_ms", "server_ms",
                              "server_parse_ms", "server_tracker_ms", "own_work_ms"]))
    return report.top_groups(everything, 6)


def load_rows(results: dict[str, dict]) -> list[dict]:
    rows = []
    for name, result in results.items():
        rows.append({"scenario": "paced", "bot": name, **result["paced"]})
        for n, row in result["saturation"].items():
            rows.append({"scenario": f"saturation {n}", "bot": name, **row})
    return rows


def print_load(results: dict[str, dict], settings: Settings) -> None:
    rows = load_rows(results)
    shown = [{k: _fmt(v) for k, v in r.items()} for r in rows]
    print(f"\nLoad: paced = {settings.paced_customers} customers × one turn every "
          f"{settings.paced_interval:g} s for {settings.paced_seconds:g} s; saturation N = N "
          f"customers without pause for {settings.saturation_seconds:g} s "
          f"(one Rasa process, SQLite, load generator on the same machine, {os.cpu_count()} "
          "cores)")
    print(table(shown, ["scenario", "bot", "turns", "turns_per_s", "p50_ms", "p95_ms", "p99_ms",
                        "errors"]))
    long_rows = [{"bot": name, **{k: _fmt(v, 2 if k.endswith("turn5") else 1)
                                  for k, v in result["long"].items() if k != "per_turn_ms"}}
                 for name, result in results.items()]
    print(f"\nOne conversation of {settings.long_turns} turns (median of "
          f"{settings.long_repeats} runs per turn; turn 5 / turn 50 = medians of turns 3–7 / "
          "48–52)")
    print(table(long_rows, ["bot", "turns_1_10_ms", "turns_21_30_ms", "turns_51_60_ms",
                            "turn5_ms", "turn50_ms", "turn50_over_turn5", "errors"]))
    ours, base = results["ours"], results.get("starter")
    if base:
        print("\nours / baseline (starter bot):")
        pairs = [("paced", ours["paced"], base["paced"])] + [
            (f"saturation {n}", ours["saturation"][n], base["saturation"][n])
            for n in ours["saturation"]]
        for label, a, b in pairs:
            print(f"  {label}: turns/s {_ratio(a['turns_per_s'], b['turns_per_s'])}, "
                  f"p95 {_ratio(a['p95_ms'], b['p95_ms'])}")
        print(f"  turn 50 / turn 5: {_fmt(ours['long']['turn50_over_turn5'], 2)} vs "
              f"{_fmt(base['long']['turn50_over_turn5'], 2)}")
    print("\nissue 14's targets (ours):")
    for target, value, met in targets(ours):
        print(f"  {target}: {value} → {'met' if met else 'not met'}")


def targets(ours: dict) -> list[tuple[str, str, bool]]:
    """Issue 14's three targets: what they ask, what we measured, whether it is met."""
    paced = ours["paced"]
    best = max((row["turns_per_s"] for row in ours["saturation"].values()),
               default=float("nan"))
    ratio = ours["long"]["turn50_over_turn5"]
    return [
        ("paced p95 ≤ 50 ms, no errors",
         f"p95 {_fmt(paced['p95_ms'])} ms, {paced['errors']} errors",
         paced["p95_ms"] <= 50 and not paced["errors"]),
        ("saturation ≥ 60 turns/s", f"{_fmt(best)} turns/s", best >= 60),
        ("turn 50 ≤ 1.2 × turn 5, no errors",
         f"{_fmt(ratio, 2)}, {ours['long']['errors']} errors",
         ratio <= 1.2 and not ours["long"]["errors"]),
    ]


# --- the command --------------------------------------------------------------------------------

def main() -> dict:
    settings = Settings.from_env()
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    home = ensure_starter() if settings.baseline else None
    ours = Bot("ours", ROOT, our_model(), ROOT / "credentials.yml", tables=True)
    results: dict[str, dict] = {}
    with serve(ours, OUT / "turn" / "ours") as url:
        lines = our_lines(url)
        ours.conversations = our_conversations(lines)
        ours.long_lines = lines.notice
        print(f"  ours: {len(lines.notice)} held-out notice questions, {len(lines.requests)} "
              "requests walked to a ticket", flush=True)
        results["ours"] = asyncio.run(measure_load(url, ours, settings))
    profile = run_profile(lines, settings)
    if home is not None:
        starter = starter_bot(home, [len(c) for c in ours.conversations])
        with serve(starter, OUT / "turn" / "starter") as url:
            results["starter"] = asyncio.run(measure_load(url, starter, settings))
    top = print_profile(profile)
    print("\ntop cost centres (all profiled turns, mean ms per turn): "
          + "; ".join(f"{group} {ms:.1f}" for group, ms in top))
    print_load(results, settings)
    load_after = os.getloadavg()[0]
    print(f"\n(bench took {time.monotonic() - started:.0f} s; the machine's 1-minute load average "
          f"{load_before:.1f} at the start, {load_after:.1f} at the end, on {os.cpu_count()} "
          "cores: other work on the machine shows in every figure)")
    result = {
        "settings": asdict(settings),
        "load_average": {"start": load_before, "end": load_after},
        "load": results,
        "profile": {
            "cells": [asdict(c) for c in profile["cells"]],
            "actions": profile["actions"],
            "top": top,
            "turns": [asdict(c) for c in profile["costs"]],
        },
    }
    write_json(OUT / "turn.json", result)
    return result


if __name__ == "__main__":
    main()
