"""The steps of the sesame pipeline: plain, typed functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay import log_metrics, step
from assay.errors import DataError
from assay.evaluation import classification_report, flat_metrics
from assay.validation import validate_labelled_text

if TYPE_CHECKING:
    # pandas and scikit-learn are imported inside the steps that use them: a fully cached
    # run never executes a step, so it need not pay the 1.5 s they take to import.
    import pandas as pd
    from sklearn.pipeline import Pipeline

LABELS = ("negative", "neutral", "positive")
ENCODING = "iso-8859-1"
CORPUS = "Sentences_50Agree.txt"
AGREEMENT_FILES = (
    (0.66, "Sentences_66Agree.txt"),
    (0.75, "Sentences_75Agree.txt"),
    (1.0, "Sentences_AllAgree.txt"),
)

__all__ = ["LABELS", "evaluate", "ingest", "split", "train", "validate", "with_feedback"]


@step(outputs={"sentences": "dataset"})
def ingest(data: Path) -> pd.DataFrame:
    """Read Financial PhraseBank: ISO-8859-1, one ``sentence@label`` per line.

    ``data`` is the corpus folder. Every sentence comes from Sentences_50Agree.txt; its
    ``agreement`` is the largest annotator agreement (0.5, 0.66, 0.75 or 1.0) of the
    files that also list it.
    """
    import pandas as pd  # noqa: PLC0415

    frame = pd.DataFrame(_read(data / CORPUS, strict=True), columns=["sentence", "label"])
    agreement = {}
    for level, name in AGREEMENT_FILES:
        path = data / name
        if path.is_file():
            agreement.update(dict.fromkeys((s for s, _ in _read(path, strict=False)), level))
    frame["agreement"] = frame["sentence"].map(agreement).fillna(0.5)
    return frame


def _read(path: Path, *, strict: bool) -> list[tuple[str, str]]:
    """``(sentence, label)`` pairs; a malformed line fails when ``strict``, else is skipped.

    The agreement files only refine training weights, so a broken line there (the shipped
    Sentences_AllAgree.txt has one) is reported and skipped rather than stopping the run.
    """
    rows = []
    try:
        # Only "\n" ends a line: str.splitlines() would also split at U+0085, which is
        # what byte 0x85 (an ellipsis in Windows-1252 text) decodes to in ISO-8859-1.
        lines = path.read_text(encoding=ENCODING).split("\n")
    except FileNotFoundError:
        raise DataError(
            f"{path} not found", hint="point --param data at the Financial PhraseBank folder"
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        # A sentence may itself contain '@'; the label follows the last one.
        sentence, sep, label = line.rstrip("\r").rpartition("@")
        if not sep or not label.strip():
            problem = f"{path.name} line {number} is not `sentence@label`: {line.strip()[:60]!r}"
            if strict:
                raise DataError(problem, hint="fix or remove that line")
            print(f"  ingest: [warning] {problem}; skipped")
            continue
        rows.append((sentence.strip(), label.strip()))
    if not rows:
        raise DataError(f"{path} holds no sentences", hint="check the corpus file")
    return rows


@step(outputs={"clean": "dataset", "report": "report"})
def validate(
    sentences: pd.DataFrame, min_rows_per_class: int = 50, max_imbalance: float = 10.0
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop empty, duplicate and conflicting sentences; fail on a bad label set or balance."""
    clean, report = validate_labelled_text(
        sentences,
        text="sentence",
        label="label",
        labels=LABELS,
        min_rows_per_class=min_rows_per_class,
        max_imbalance=max_imbalance,
    )
    for issue in report.issues:
        print(f"  validate: [{issue.severity}] {issue.message}")
    report.raise_for_errors()
    log_metrics({"rows_in": report.rows_in, "rows_clean": report.rows_out})
    return clean, report.to_dict()


@step(outputs=["train", "test"])
def split(
    clean: pd.DataFrame, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified, seeded train/test split."""
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    train_set, test_set = train_test_split(
        clean, test_size=test_size, stratify=clean["label"], random_state=seed
    )
    return train_set.reset_index(drop=True), test_set.reset_index(drop=True)


@step(outputs={"train": "dataset"})
def with_feedback(train_set: pd.DataFrame, feedback: Path) -> pd.DataFrame:
    """The training split plus live inputs with late labels (a CSV of ``text`` and ``label``,
    as a monitoring policy's retraining writes it), weighted as sentences all annotators
    agreed on. The test split is left alone, so a retrained version is evaluated, and gated
    against production, on the same held-out sentences."""
    import pandas as pd  # noqa: PLC0415

    try:
        extra = pd.read_csv(feedback, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read feedback {feedback}: {exc}") from None
    if not {"text", "label"} <= set(extra.columns):
        raise DataError(
            f"{feedback} has columns {list(extra.columns)}, not text and label",
            hint="write it with a monitoring policy's retrain.feedback",
        )
    extra = extra[extra["label"].isin(LABELS) & (extra["text"].str.strip() != "")]
    rows = pd.DataFrame({"sentence": extra["text"], "label": extra["label"], "agreement": 1.0})
    log_metrics({"feedback_rows": len(rows)})
    return pd.concat([train_set, rows], ignore_index=True)


@step(outputs={"model": "model"})
def train(
    train_set: pd.DataFrame,
    word_ngram_max: int = 2,
    char_ngram_min: int = 2,
    char_ngram_max: int = 5,
    max_features: int = 50_000,
    loss: str = "modified_huber",
    alpha: float = 1e-4,
    class_weight: str = "balanced",
    epochs: int = 50,
    agreement_power: float = 4.0,
    seed: int = 42,
) -> Pipeline:
    """Word and character n-gram TF-IDF into a class-weighted linear classifier.

    Plain word TF-IDF with logistic regression reaches about 0.66 macro-F1 here because the
    negative class is small; character n-grams catch inflections and numbers, and class
    weights keep the negative class from being ignored. Each sentence is weighted by its
    annotator agreement to the power ``agreement_power`` (0: all alike), so sentences that
    annotators disagreed on teach less.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import SGDClassifier  # noqa: PLC0415
    from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: PLC0415

    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, word_ngram_max), sublinear_tf=True, max_features=max_features
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(char_ngram_min, char_ngram_max),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=max_features,
                ),
            ),
        ]
    )
    classifier = SGDClassifier(
        loss=loss,
        alpha=alpha,
        class_weight=None if class_weight == "none" else class_weight,
        max_iter=epochs,
        tol=None,
        random_state=seed,
    )
    model = Pipeline([("features", features), ("classifier", classifier)])
    weights = train_set["agreement"].to_numpy() ** agreement_power
    model.fit(train_set["sentence"], train_set["label"], classifier__sample_weight=weights)
    for _, vectorizer in features.transformer_list:
        # NumPy integers in the vocabulary make skops write one JSON object per term
        # (tens of MB, minutes); plain ints save and load in seconds.
        vectorizer.vocabulary_ = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
    return model


@step(outputs={"metrics": "metrics"})
def evaluate(model: Pipeline, test_set: pd.DataFrame) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision and recall, confusion matrix on the test split."""
    predicted = model.predict(test_set["sentence"])
    report = classification_report(test_set["label"].tolist(), predicted.tolist(), LABELS)
    log_metrics(flat_metrics(report))
    return report
