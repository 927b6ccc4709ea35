"""Optional backend running local Hugging Face models (not yet available)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TransformersAnalyzer:
    version = "transformers-0"

    def __init__(
        self,
        sentiment_model: str | Path | None = None,
        toxicity_model: str | Path | None = None,
        models_dir: str | Path | None = None,
    ) -> None:
        raise RuntimeError("the transformers backend is not available yet")

    def analyze(self, text: str, lang_hint: str | None = None) -> Any:
        raise NotImplementedError

    def analyze_many(self, texts: Any, lang_hints: Any = None) -> Any:
        raise NotImplementedError
