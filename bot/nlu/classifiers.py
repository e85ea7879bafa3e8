"""Intent, domain and sub-topic classifiers (Rasa components around scikit-learn).

Why not DIET: on these 2-core machines DIET trains in minutes to hours and needs
gigabytes, while a calibrated linear SVM over word and character n-grams trains
in seconds, parses in about a millisecond and scored better on the same data (see
``reports/``); the README gives the figures.

``SparseIntentClassifier`` predicts the dialogue act. ``DomainClassifier`` runs
after the ``FallbackClassifier`` and, for demand intents only (``report_need``,
``ask_policy``), predicts the service domain and sub-topic. It blends a domain
model with the domain totals of a sub-topic model, then picks the best sub-topic
*within* the chosen domain, so the pair is always consistent with the taxonomy.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.pipeline import Pipeline

from bot.nlu import linear
from bot.taxonomy import taxonomy
from bot.text import has_words

logger = logging.getLogger(__name__)

DOMAIN = "domain"
DOMAIN_RANKING = "domain_ranking"
SUBTOPIC = "subtopic"
SUBTOPIC_RANKING = "subtopic_ranking"
NO_LABEL = {"name": None, "confidence": None}


class TrainingDataError(RasaException):
    """Training data that cannot be used, with the offending value in the message."""


_ROW = "_sentence_row"  # a message's combined sparse sentence features, cached at inference


def sentence_features(messages: list[Message], width: int, cache: bool = False
                      ) -> sp.csr_matrix:
    """Stack the messages' sparse sentence features (all featurizers combined).

    With ``cache`` the combined row is kept on the message, so the second classifier
    does not combine the featurizers' outputs again (about 0.5 ms a message).
    """
    rows = []
    for m in messages:
        row = m.data.get(_ROW) if cache else None
        if row is None:
            feats = m.get_sparse_features(TEXT)[1]
            row = feats.features if feats is not None else None
            if cache and row is not None:
                m.data[_ROW] = row
        rows.append(row)
    return linear.stack_rows(rows, width)


def feature_width(messages: list[Message]) -> int:
    for m in messages:
        feats = m.get_sparse_features(TEXT)[1]
        if feats is not None:
            return feats.features.shape[1]
    raise TrainingDataError("no message has sparse sentence features: "
                            "put a CountVectorsFeaturizer before the classifiers")


def subtopic_label(message: Message) -> str | None:
    """The sub-topic named in the intent block's metadata (see data/nlu/README.md)."""
    meta = (message.get(METADATA) or {}).get("intent") or {}
    return meta.get("subtopic") if isinstance(meta, dict) else None


MIN_EXAMPLES = 3  # the probability calibration uses 3-fold cross-validation


def check_label_counts(labels: list[str], what: str) -> None:
    """Every label needs a few examples; name the ones that have too few."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    thin = sorted(f"{k} ({v})" for k, v in counts.items() if v < MIN_EXAMPLES)
    if thin:
        raise TrainingDataError(f"each {what} needs at least {MIN_EXAMPLES} training "
                                f"examples; too few for: {', '.join(thin)}")


def _ranking(classes: np.ndarray, probs: np.ndarray, length: int) -> list[dict[str, Any]]:
    order = np.argsort(-probs)
    if length > 0:
        order = order[:length]
    return [{"name": str(classes[i]), "confidence": float(probs[i])} for i in order]


class _SklearnComponent(GraphComponent):
    """Persistence and construction shared by the two classifiers."""

    _files: tuple[str, ...] = ()

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"model": "svm", "C": 1.0, "class_weight": "balanced", "ranking_length": 10}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource, estimators: dict[str, Pipeline] | None = None,
                 width: int = 0) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.estimators = estimators or {}
        self.width = width

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext) -> _SklearnComponent:
        return cls(config, model_storage, resource)

    def _new_estimator(self) -> Pipeline:
        return linear.make_estimator(self.config["model"], float(self.config["C"]),
                                     class_weight=self.config["class_weight"] or None)

    def persist(self) -> None:
        with self._storage.write_to(self._resource) as directory:
            for name, est in self.estimators.items():
                linear.save(est, directory / f"{name}.skops")
            (directory / "width.txt").write_text(str(self.width))

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> _SklearnComponent:
        try:
            with model_storage.read_from(resource) as directory:
                estimators = {name: linear.load(directory / f"{name}.skops")
                              for name in cls._files}
                width = int((directory / "width.txt").read_text())
        except ValueError:  # Rasa's way of saying the resource does not exist
            logger.warning("%s has no trained model in the model storage; it will "
                           "predict nothing.", cls.__name__)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, estimators, width)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class SparseIntentClassifier(_SklearnComponent, IntentClassifier):
    """Dialogue act (intent) from sparse n-gram features."""

    _files = ("intent",)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**_SklearnComponent.get_default_config(), "empty_intent": "out_of_scope"}

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            raise TrainingDataError("no intent examples to train on")
        check_label_counts([e.get(INTENT) for e in examples], "intent")
        self.width = feature_width(examples)
        est = self._new_estimator()
        est.fit(sentence_features(examples, self.width),
                np.array([e.get(INTENT) for e in examples]))
        self.estimators = {"intent": est}
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        est = self.estimators.get("intent")
        if est is None:
            return messages
        probs = linear.predict_proba(est, sentence_features(messages, self.width, cache=True))
        classes = est.classes_
        for message, p in zip(messages, probs, strict=True):
            if not has_words(message.get(TEXT) or ""):
                # Nothing to understand (empty, emoji, symbols): say so with certainty
                # instead of letting the model guess from an all-zero vector.
                intent = {"name": self.config["empty_intent"], "confidence": 1.0}
                ranking = [intent]
            else:
                ranking = _ranking(classes, p, int(self.config["ranking_length"]))
                intent = ranking[0]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class DomainClassifier(_SklearnComponent):
    """Service domain and sub-topic for demand messages (see module docstring)."""

    _files = ("domain", "subtopic")

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**_SklearnComponent.get_default_config(),
                "demand_intents": ["report_need", "ask_policy"],
                # weight of the domain model against the sub-topic model's domain totals
                "domain_blend": 0.5,
                "ranking_length": 0}

    def train(self, training_data: TrainingData) -> Resource:
        tax = taxonomy()
        examples, subtopics = [], []
        for e in training_data.intent_examples:
            sub = subtopic_label(e)
            if sub is None:
                continue
            if sub not in tax.subtopics:
                raise TrainingDataError(
                    f"unknown sub-topic {sub!r} in the metadata of intent "
                    f"{e.get(INTENT)!r} (example: {e.get(TEXT)[:30]!r}); "
                    f"valid ids are in bot/resources/taxonomy.yml")
            examples.append(e)
            subtopics.append(sub)
        if not examples:
            raise TrainingDataError("no training example names a sub-topic")
        check_label_counts(subtopics, "sub-topic")
        self.width = feature_width(examples)
        X = sentence_features(examples, self.width)
        dom_est, sub_est = self._new_estimator(), self._new_estimator()
        dom_est.fit(X, np.array([tax.domain_of(s) for s in subtopics]))
        sub_est.fit(X, np.array(subtopics))
        self.estimators = {"domain": dom_est, "subtopic": sub_est}
        self.persist()
        return self._resource

    def predict(self, X: sp.csr_matrix) -> list[tuple[dict, list[dict], dict, list[dict]]]:
        """Domain, domain ranking, sub-topic and sub-topic ranking for each row of X."""
        tax = taxonomy()
        dom_est, sub_est = self.estimators["domain"], self.estimators["subtopic"]
        domains = [str(d) for d in dom_est.classes_]
        sub_classes = [str(s) for s in sub_est.classes_]
        # (n_subtopics × n_domains) matrix summing sub-topic probabilities per domain
        membership = np.zeros((len(sub_classes), len(domains)))
        for i, s in enumerate(sub_classes):
            membership[i, domains.index(tax.domain_of(s))] = 1.0
        blend = float(self.config["domain_blend"])
        # both models were fitted on the same rows: one TF-IDF weighting serves both
        weighted = linear.weigh(dom_est, X)
        p_dom_model = linear.predict_proba(dom_est, X, weighted)
        p_sub = linear.predict_proba(sub_est, X, weighted)
        p_dom = blend * p_dom_model + (1 - blend) * (p_sub @ membership)
        length = int(self.config["ranking_length"])
        out = []
        for pd, ps in zip(p_dom, p_sub, strict=True):
            dom_ranking = _ranking(np.array(domains), pd, length)
            best = dom_ranking[0]["name"]
            inside = membership[:, domains.index(best)] * ps
            inside = inside / inside.sum() if inside.sum() > 0 else inside
            sub_ranking = [r for r in _ranking(np.array(sub_classes), inside, length)
                           if r["confidence"] > 0]
            out.append((dom_ranking[0], dom_ranking, sub_ranking[0], sub_ranking))
        return out

    def process(self, messages: list[Message]) -> list[Message]:
        demand = set(self.config["demand_intents"])
        wanted = [m for m in messages if (m.get(INTENT) or {}).get("name") in demand]
        results = (self.predict(sentence_features(wanted, self.width, cache=True))
                   if wanted and self.estimators else [])
        found = {id(m): r for m, r in zip(wanted, results, strict=False)}
        for m in messages:
            dom, dom_rank, sub, sub_rank = found.get(id(m), (NO_LABEL, [], NO_LABEL, []))
            m.set(DOMAIN, dict(dom), add_to_output=True)
            m.set(DOMAIN_RANKING, dom_rank, add_to_output=True)
            m.set(SUBTOPIC, dict(sub), add_to_output=True)
            m.set(SUBTOPIC_RANKING, sub_rank[:5], add_to_output=True)
            m.data.pop(_ROW, None)  # the cached features are not part of the result
        return messages
