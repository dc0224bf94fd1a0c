package dev.mover.encoder.generate;

/**
 * The generate stage of extract-then-generate summarization: turns the units chosen by the extract stage
 * ({@link dev.mover.encoder.summarize.Summarizer}) into a fluent summary.
 *
 * <p>Implementations: {@link OnnxSeq2SeqGenerator} ({@value OnnxSeq2SeqGenerator#NAME}, a local encoder-decoder
 * model in ONNX) and {@link OpenAiCompatibleGenerator} ({@value OpenAiCompatibleGenerator#NAME}, a
 * chat-completions endpoint). Every call is bounded by {@link GenerationRequest#timeBudgetMillis()} and
 * {@link GenerationRequest#maxNewTokens()}: it returns or throws, it never hangs.
 *
 * <p>Implementations are thread-safe.
 */
public interface Generator extends AutoCloseable {

    /** The generator's name as used in settings and responses ({@code onnx_seq2seq}, {@code openai_compatible}). */
    String name();

    /**
     * Generates a summary of the request's units.
     *
     * @throws GenerationException if the generator fails (model error, endpoint down, timeout before any text,
     *                             malformed response); the message names the generator and the problem
     */
    GenerationResult generate(GenerationRequest request);

    /** Releases native or network resources; the default does nothing. */
    @Override
    default void close() {}
}
