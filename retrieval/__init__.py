"""Retrieval: read the store and answer questions with quoted, cited excerpts."""

from retrieval.answer import Answer, Citation, Hit
from retrieval.retriever import Retriever, Settings

__all__ = ["Answer", "Citation", "Hit", "Retriever", "Settings"]
