"""Linear text models compiled to arrays: scoring and exact explanations without scikit-learn."""

from assay.compiled.model import FORMAT, CompiledTextModel, Contributions, Part
from assay.compiled.ngrams import NgramVocabulary
from assay.compiled.sklearn import compile_model, probe_texts, verify

__all__ = [
    "FORMAT",
    "CompiledTextModel",
    "Contributions",
    "NgramVocabulary",
    "Part",
    "compile_model",
    "probe_texts",
    "verify",
]
