"""Training the Rasa model and knowing whether the current one is up to date."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings

logger = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent


class TrainingError(RuntimeError):
    """Rasa could not train a model; the message says why."""


@dataclass(frozen=True)
class TrainResult:
    model: Path
    seconds: float
    trained: bool  # False when the existing model was already current


def fingerprint_inputs(settings: Settings) -> list[Path]:
    """Every file whose content changes what `govbot train` produces."""
    files = [settings.config_file, settings.domain_file, *settings.training_files()]
    files += sorted((_PACKAGE / "resources").rglob("*.y*ml"))
    files += sorted((_PACKAGE / "resources" / "jieba").glob("*"))
    files += sorted((_PACKAGE / "nlu").glob("*.py"))
    files += [_PACKAGE / name for name in ("text.py", "entities.py", "regions.py",
                                           "taxonomy.py", "creditcode.py")]
    return files


def _input_name(path: Path, settings: Settings) -> str:
    """A fingerprint input's name without the checkout's location: relative to the project
    folder (data, configuration) or to the folder holding the ``bot`` package (code,
    resources), so that the same repository at another path needs no new training."""
    for base in (settings.root, _PACKAGE.parent):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()  # outside both (not the case for the inputs above)


def training_fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in fingerprint_inputs(settings):
        digest.update(_input_name(path, settings).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint_file(settings: Settings) -> Path:
    return settings.model_file.with_suffix("").with_suffix(".fingerprint")


def is_current(settings: Settings) -> bool:
    stamp = _fingerprint_file(settings)
    return (settings.model_file.is_file() and stamp.is_file()
            and stamp.read_text().strip() == training_fingerprint(settings))


def train(settings: Settings, force: bool = False) -> TrainResult:
    """Train NLU and dialogue into ``models/govbot.tar.gz`` unless it is already current."""
    if not force and is_current(settings):
        return TrainResult(settings.model_file, 0.0, trained=False)
    import rasa.api

    fingerprint = training_fingerprint(settings)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = rasa.api.train(
        domain=str(settings.domain_file),
        config=str(settings.config_file),
        training_files=[str(p) for p in settings.training_files()],
        output=str(settings.models_dir),
        fixed_model_name=settings.model_file.name.removesuffix(".tar.gz"),
        force_training=True,
    )
    seconds = time.perf_counter() - started
    if result.code != 0 or not result.model or not Path(result.model).is_file():
        raise TrainingError(f"Rasa training failed (exit code {result.code}); see the log above")
    _fingerprint_file(settings).write_text(fingerprint + "\n")
    logger.info("Trained %s in %.1f s.", result.model, seconds)
    return TrainResult(Path(result.model), seconds, trained=True)
