package dev.mover.encoder.generate;

import java.nio.file.Path;

/**
 * Encodes text to token ids and decodes ids back to text for a seq2seq model, read from a HuggingFace
 * {@code tokenizer.json}. Supported models: {@code WordPiece} (through
 * {@link dev.mover.encoder.tokenize.BertTokenizer}), {@code BPE} (byte-level as in GPT-2/BART/RoBERTa, or over
 * characters with a {@code Metaspace} pre-tokenizer and optional byte fallback) and {@code Unigram}
 * (SentencePiece-style, with the {@code Metaspace} pre-tokenizer). See {@link #load(Path)} for the supported
 * normalizers, pre-tokenizers, post-processors and decoders.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface SubwordTokenizer {

    /**
     * Token ids of {@code text} as the model's encoder expects them: added tokens matched in the raw text, then
     * normalizer, pre-tokenizer and model, then the post-processor's special tokens (e.g. a trailing {@code </s>})
     * when {@code addSpecialTokens} is set. Equals HuggingFace's {@code encode(text, add_special_tokens)} ids.
     */
    int[] encode(String text, boolean addSpecialTokens);

    /**
     * Like {@link #encode(String, boolean)} with special tokens, but the content is cut so that the result has at
     * most {@code maxTokens} ids (the special tokens are kept).
     */
    int[] encode(String text, int maxTokens);

    /** Text of {@code ids}, skipping special tokens (added tokens marked {@code special}), with the decoder applied. */
    String decode(int[] ids, int from, int to);

    /** Id of a vocabulary or added token, or -1. */
    int tokenId(String token);

    /** The token of an id, or {@code null} when out of range. */
    String token(int id);

    /** Whether {@code id} is a special token (an added token marked {@code special}, e.g. {@code </s>}). */
    boolean isSpecial(int id);

    /** Number of ids (largest id + 1). */
    int vocabSize();

    /** The tokenizer model type: {@code WordPiece}, {@code BPE} or {@code Unigram}. */
    String modelType();

    /**
     * Reads a HuggingFace {@code tokenizer.json}.
     *
     * <p>Supported: normalizers {@code NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace} (string pattern),
     * {@code Prepend}, {@code Precompiled} (applied as NFKC, which covers SentencePiece's default {@code nmt_nfkc}
     * map except its whitespace folding), {@code Sequence} and, for WordPiece, {@code BertNormalizer};
     * pre-tokenizers {@code Metaspace, ByteLevel, Whitespace, WhitespaceSplit, Sequence} (and {@code BertPreTokenizer}
     * for WordPiece); post-processors {@code TemplateProcessing} (single sequence), {@code RobertaProcessing},
     * {@code BertProcessing}; decoders {@code Metaspace, ByteLevel, WordPiece, ByteFallback, Fuse, Replace, Strip,
     * Sequence}.
     *
     * @throws IllegalArgumentException naming the file and the unsupported or missing part
     */
    static SubwordTokenizer load(Path tokenizerJson) {
        return HfTokenizer.load(tokenizerJson);
    }
}
