"""Linear models (of texts or of numeric columns) as NumPy arrays: scored without scikit-learn."""

from assay.compiled.linear import CompiledLinearModel, compile_linear
from assay.compiled.model import FORMAT, CompiledTextModel, Contributions, Part
from assay.compiled.ngrams import NgramVocabulary
from assay.compiled.sklearn import compile_model, probe_texts, verify

__all__ = [
    "FORMAT",
    "CompiledLinearModel",
    "CompiledTextModel",
    "Contributions",
    "NgramVocabulary",
    "Part",
    "compile_linear",
    "compile_model",
    "probe_texts",
    "verify",
]
