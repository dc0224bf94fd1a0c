package dev.mover.encoder;

import dev.mover.scoring.codec.TokenVectorCodec;

import java.util.Objects;

/**
 * Stores an {@link EncodedText} in the token-vector format of {@link TokenVectorCodec} (which lives in
 * {@code mover-scoring} so that readers need no ONNX Runtime). Decoding is {@link TokenVectorCodec#decode}.
 */
public final class EncodedTextCodec {
    private EncodedTextCodec() {}

    /**
     * Encodes the text's vectors and offsets: {@link TokenVectorCodec#encode(float[], int, int[], int[],
     * TokenVectorCodec.Encoding, long)} applied to its arrays.
     *
     * @param fingerprint the fingerprint of the model that made the vectors ({@link TextEncoder#fingerprint()})
     */
    public static byte[] encode(EncodedText t, TokenVectorCodec.Encoding enc, long fingerprint) {
        Objects.requireNonNull(t, "t");
        return TokenVectorCodec.encode(t.vectors(), t.dims(), t.starts(), t.ends(), enc, fingerprint);
    }
}
