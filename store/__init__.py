"""Where index generations are kept and searched: FAISS or Qdrant behind one interface."""
