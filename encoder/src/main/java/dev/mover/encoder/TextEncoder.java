package dev.mover.encoder;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns text into per-token vectors with character offsets, plus the model's pooled sentence vector.
 * Implementations are thread-safe.
 */
public interface TextEncoder extends Closeable {

    /**
     * Opens the model in {@code modelDir} (a directory with {@code model.json}, the ONNX graph and the
     * {@code tokenizer.json}) with one ONNX Runtime session.
     *
     * @throws IllegalArgumentException if the model directory is missing or malformed (the message names the model
     *                                  and the file)
     * @throws IllegalStateException    if ONNX Runtime cannot load the graph
     */
    static TextEncoder open(Path modelDir, EncoderConfig cfg) {
        return OnnxTextEncoder.open(ModelDescriptor.load(modelDir), cfg);
    }

    /** The model's descriptor. */
    ModelDescriptor model();

    /** The configuration this encoder was opened with. */
    EncoderConfig config();

    /**
     * A stable 64-bit fingerprint of the model: the first 8 bytes of SHA-256 over the tokenizer file and the ONNX
     * file (computed once at open). Stored with every encoded value so that vectors of different models are never
     * compared. It does not depend on the {@link EncoderConfig}.
     */
    long fingerprint();

    /**
     * Encodes one text.
     *
     * @throws IllegalArgumentException if the text is longer than {@link EncoderConfig#maxTokens()} and
     *                                  {@link EncoderConfig#onOverflow()} is {@code error}
     */
    EncodedText encode(String text);

    /**
     * Encodes several texts, grouping sequences of similar length into ONNX Runtime batches. The result has the same
     * order as {@code texts}.
     */
    List<EncodedText> encodeBatch(List<String> texts);

    /** Releases the ONNX Runtime session. Idempotent. */
    @Override
    void close();
}
