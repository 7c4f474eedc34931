"""Moved: the store's files are the `store` package's (store/generations.py, store/meta.py,
store/faiss.py). Re-exported here so that code written against `index.store` still runs;
new code imports from `store`."""

# ruff: noqa: F401
from store.faiss import FaissReader as StoreReader
from store.generations import (
    CACHE,
    CURRENT,
    FORMAT_VERSION,
    LOCK,
    MANIFEST,
    META,
    QDRANT_DIR,
    VECTORS,
    FileIdentity,
    Manifest,
    StoreError,
    current_generation,
    discard_unpublished,
    file_checksum,
    file_checksums,
    file_damage,
    fsync_dir,
    fsync_tree,
    generation_number,
    prune,
    publish,
    verify_files,
    write_atomic,
)
from store.meta import (
    SCHEMA,
    MetaReader,
    chunk_rows,
    chunk_tokens,
    delete_documents,
    document_vector,
    insert_document,
    open_meta,
    previous_state,
    stored_files,
    write_skipped,
    write_token_df,
)
from store.protocol import StoredChunk
from store.vectors import read_vectors, write_vectors
