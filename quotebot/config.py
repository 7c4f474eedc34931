"""The one configuration object: `config.toml`, then environment, then CLI flags.

Every key in `config.toml` can be overridden by an environment variable named
`QUOTEBOT_<SECTION>_<KEY>` (top-level keys: `QUOTEBOT_<KEY>`), e.g.
`QUOTEBOT_CORPUS`, `QUOTEBOT_STORE`, `QUOTEBOT_MODEL_NAME`,
`QUOTEBOT_CHUNKING_MAX_TOKENS`. Lists are comma-separated. The CLI applies its
flags last through `Config.override`.

Relative paths in a config file are resolved against the file's folder; relative
paths from the environment or flags against the working directory.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quotebot.errors import ConfigError as ConfigError  # raised here, defined at the bottom

ENV_PREFIX = "QUOTEBOT_"
DEFAULT_CONFIG_NAME = "config.toml"


@dataclass
class ModelConfig:
    name: str = "sentence-transformers/all-MiniLM-L6-v2"
    batch_size: int = 4
    allow_download: bool = False
    runtime: str = "onnx"
    index_precision: str = "fp32"
    # What chunks are embedded with besides their text (index/embedding.py CONTEXT_MODES):
    # "none", or their document's title and headings read first ("own": the chunk vector
    # pools the chunk's own tokens; "all": every token). Changing it re-embeds the corpus.
    context: str = "none"
    threads: int = 1
    query_threads: int = 1


@dataclass
class ChunkingConfig:
    max_tokens: int = 200
    overlap_sentences: int = 1


@dataclass
class LoadingConfig:
    max_file_mb: float = 50.0
    file_timeout_s: float = 60.0  # a file's parse (load + chunk) is stopped after this
    file_memory_mb: int = 1024  # memory a file's parse may use (its worker's address space)
    workers: int = 0  # parsing worker processes; 0: one per core, at most 4
    # File types to index; empty: every type quotebot reads (index.loaders.SUPPORTED_SUFFIXES).
    extensions: list[str] = field(default_factory=list)
    ocr: str = "auto"  # "auto": read PDF pages without a text layer with Tesseract; "off"
    ocr_language: str = "eng"  # Tesseract language(s), e.g. "eng+deu"
    max_pdf_pages: int = 2000  # a PDF with more pages is skipped with a reason


@dataclass
class IndexConfig:
    faiss_index: str = "auto"
    flat_max: int = 25_000
    ivf_nlist: int = 0
    ivf_nprobe: int = 0
    retrain_growth: float = 2.0
    ivf_fp16: bool = True
    sq8: bool = False
    mmap: bool = True
    search_threads: int = 1
    build_threads: int = 0
    keep_generations: int = 2
    watch: bool = False
    watch_debounce_s: float = 2.0


@dataclass
class RetrievalConfig:
    k: int = 3
    mode: str = "hybrid"
    min_confidence: float = 0.33
    show_closest: bool = True
    reload_check_s: float = 1.0


@dataclass
class TelegramConfig:
    token_file: str = ""
    base_url: str = ""
    allowed_users: list[int] = field(default_factory=list)
    allowed_chats: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    public: bool = False
    build_at_start: bool = True
    rate_per_minute: float = 10.0
    rate_burst: int = 5
    max_question_chars: int = 1000
    max_upload_mb: float = 20.0
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""
    conversation_ttl_s: float = 900.0
    conversation_turns: int = 3
    max_conversations: int = 5000
    send_per_second: float = 25.0
    group_per_minute: float = 20.0
    chat_per_second: float = 1.0
    journal: str = ""
    stale_after_s: float = 600.0
    notify_rebuilds: bool = False
    # chat id -> folders (or document paths) of the corpus its questions are limited to.
    scopes: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class QdrantConfig:
    url: str = ""  # empty: embedded local mode in <store>/qdrant (tests, small corpora)
    collection: str = "quotebot"
    prefer_grpc: bool = False
    shards: int = 1
    replicas: int = 1
    on_disk: bool = False
    quantization: str = "none"  # "none" | "int8"
    upload_parallel: int = 1  # processes uploading points to a server
    timeout: float = 60.0


@dataclass
class Config:
    corpus: Path = Path("seeds")
    store: Path = Path(".quotebot/store")
    backend: str = "faiss"  # "faiss" | "qdrant": where the search side lives (store/)
    model: ModelConfig = field(default_factory=ModelConfig)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    loading: LoadingConfig = field(default_factory=LoadingConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    qdrant: QdrantConfig = field(default_factory=QdrantConfig)
    source: Path | None = None

    def override(self, key: str, value: Any) -> None:
        """Set `key` ("store" or "model.name") to `value` unless it is None (a flag not given)."""
        if value is None:
            return
        section, _, name = key.rpartition(".")
        target = getattr(self, section) if section else self
        if not hasattr(target, name):
            raise ConfigError(f"unknown config key {key!r}")
        current = {f.name: f for f in dataclasses.fields(target)}[name]
        setattr(target, name, _coerce(value, _field_type(type(target), current.name), key))


    def check(self) -> None:
        """ConfigError for a number no setting can mean: negative or NaN anywhere, zero
        where something must happen (k, batch size, chunk size, limits), a confidence
        threshold outside 0..1. Such values otherwise fail deep in a build with a
        traceback, or silently answer nothing (or everything)."""
        for section in _SECTIONS:
            part = getattr(self, section)
            for f in dataclasses.fields(part):
                value = getattr(part, f.name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                key = f"{section}.{f.name}"
                if value != value or value < 0 or (key in _POSITIVE and value == 0):
                    least = "above 0" if key in _POSITIVE else "0 or more"
                    raise ConfigError(f"{key} must be {least}, not {value!r}")
                if value == math.inf or value > _MAXIMUM.get(key, 2 ** 53):
                    raise ConfigError(f"{key} must be at most {_MAXIMUM.get(key, 2 ** 53):,}, "
                                      f"not {value!r}")  # inf overflowed deep in a build
        if not 0 <= self.retrieval.min_confidence <= 1:
            raise ConfigError("retrieval.min_confidence must be between 0 and 1, not "
                              f"{self.retrieval.min_confidence!r}")
        try:  # the index libraries take paths as UTF-8 text
            str(self.store).encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"the store folder {str(self.store)!r} has a name that is "
                              "not valid UTF-8: choose another folder") from None


# Numbers that must be above zero (every other number must be zero or more).
_POSITIVE = {"model.batch_size", "chunking.max_tokens", "retrieval.k", "loading.max_file_mb",
             "loading.file_timeout_s", "loading.max_pdf_pages", "telegram.max_question_chars"}

# Ceilings where a larger number is a mistake that fails far from its cause: worker
# processes (each loads a tokenizer; 100,000 never finished starting) and the memory limit
# handed to setrlimit (in MB, it overflowed every worker's limit).
_MAXIMUM = {"loading.workers": 64, "loading.file_memory_mb": 2 ** 30}

_SECTIONS = {f.name for f in dataclasses.fields(Config)
             if dataclasses.is_dataclass(f.default_factory)}


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """Turn a TOML value or an environment string into the field's type."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value in ("", None):
            return None
        return _coerce(value, options[0], key)
    try:
        if origin is dict:
            key_type, item = typing.get_args(kind)
            if isinstance(value, str):  # "chat=folder;folder,chat2=folder"
                pairs = [p.partition("=") for p in value.split(",") if p.strip()]
                value = {k.strip(): [v for v in rest.split(";") if v.strip()]
                         for k, _, rest in pairs}
            if not isinstance(value, dict):
                raise TypeError(value)
            return {_coerce(k, key_type, key): _coerce(v, item, key) for k, v in value.items()}
        if origin is list:
            (item,) = typing.get_args(kind)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            return [_coerce(v, item, key) for v in value]
        if kind is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError(value)
            return bool(value)
        if kind is Path:
            if not str(value).strip():
                raise ValueError(value)  # Path("") is the working directory
            return Path(value).expanduser()
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config key {key!r}: cannot use {value!r} as {kind}") from exc


def _apply_table(config: Config, table: dict[str, Any], base: Path, where: str) -> None:
    for key, value in table.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            for sub, subvalue in value.items():
                if not hasattr(getattr(config, key), sub):
                    raise ConfigError(f"{where}: unknown key {key}.{sub}")
                config.override(f"{key}.{sub}", subvalue)
        elif key in ("corpus", "store"):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: {key} must name a folder, not {value!r}")
            path = Path(value).expanduser()
            config.override(key, path if path.is_absolute() else base / path)
        elif key == "backend":
            config.override(key, value)
        else:
            raise ConfigError(f"{where}: unknown key {key!r}")


def _apply_environment(config: Config, environ: typing.Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        if rest in ("corpus", "store", "backend"):
            config.override(rest, value)
            continue
        section = next((s for s in _SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            continue  # other QUOTEBOT_ variables (e.g. QUOTEBOT_CONFIG) are not keys
        key = rest[len(section) + 1:]
        if not hasattr(getattr(config, section), key):
            raise ConfigError(f"environment {name}: no key {section}.{key}")
        config.override(f"{section}.{key}", value)
    # The conventional Telegram variables, so the bot runs with what people already set.
    if environ.get("TELEGRAM_API_BASE_URL"):
        config.override("telegram.base_url", environ["TELEGRAM_API_BASE_URL"])


def find_config_file(explicit: Path | str | None = None,
                     environ: typing.Mapping[str, str] | None = None) -> Path | None:
    """The file to read: the flag, then QUOTEBOT_CONFIG, then ./config.toml if present."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get(ENV_PREFIX + "CONFIG"):
        return Path(environ[ENV_PREFIX + "CONFIG"])
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_config(path: Path | str | None = None,
                environ: typing.Mapping[str, str] | None = None) -> Config:
    """Defaults, then the config file, then the environment. CLI flags come after, via override."""
    environ = os.environ if environ is None else environ
    config = Config()
    file = find_config_file(path, environ)
    if file is not None:
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            table = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from exc
        _apply_table(config, table, file.resolve().parent, str(file))
        config.source = file.resolve()
    _apply_environment(config, environ)
    config.check()
    return config
