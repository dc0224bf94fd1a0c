package dev.mover.encoder;

import java.util.Objects;

/**
 * The encoder's output for one text: one vector per stored token (row-major {@code tokens x dims}), each token's
 * id and {@code [start, end)} offsets into the input string in UTF-16 chars, and the model's pooled sentence vector.
 *
 * <p>By default the stored tokens are the content tokens only; with
 * {@link EncoderConfig#keepSpecialTokens()} the sequence starts with [CLS] (offsets {@code [0, 0)}) and ends with
 * [SEP] (offsets {@code [length, length)}).
 *
 * <p>An empty or whitespace-only text has 0 tokens, an empty {@link #vectors()} and a {@link #pooled()} vector of
 * {@link #dims()} zeros (no sentence vector exists; callers check {@code tokens() == 0} before a cosine).
 *
 * <p>The accessors return the internal arrays, not copies: treat them as read-only.
 */
public final class EncodedText {
    private final int dims;
    private final float[] vectors;
    private final int[] ids;
    private final int[] starts;
    private final int[] ends;
    private final float[] pooled;
    private final boolean truncated;

    /**
     * @throws IllegalArgumentException if the array lengths do not agree
     */
    public EncodedText(int dims, float[] vectors, int[] ids, int[] starts, int[] ends, float[] pooled,
                       boolean truncated) {
        Objects.requireNonNull(vectors, "vectors");
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(starts, "starts");
        Objects.requireNonNull(ends, "ends");
        Objects.requireNonNull(pooled, "pooled");
        if (dims <= 0) {
            throw new IllegalArgumentException("[mover] dims must be positive but was [" + dims + "]");
        }
        int n = ids.length;
        if (starts.length != n || ends.length != n || vectors.length != (long) n * dims || pooled.length != dims) {
            throw new IllegalArgumentException("[mover] encoded text arrays disagree: ids [" + n + "], starts ["
                + starts.length + "], ends [" + ends.length + "], vectors [" + vectors.length + "] for dims [" + dims
                + "], pooled [" + pooled.length + "]");
        }
        this.dims = dims;
        this.vectors = vectors;
        this.ids = ids;
        this.starts = starts;
        this.ends = ends;
        this.pooled = pooled;
        this.truncated = truncated;
    }

    /** Number of stored tokens. */
    public int tokens() {
        return ids.length;
    }

    /** Width of each vector. */
    public int dims() {
        return dims;
    }

    /** Token vectors, row-major {@code tokens x dims}. */
    public float[] vectors() {
        return vectors;
    }

    /** Token ids in the model's vocabulary. */
    public int[] ids() {
        return ids;
    }

    /** Start offsets (inclusive) in UTF-16 chars of the input string. */
    public int[] starts() {
        return starts;
    }

    /** End offsets (exclusive) in UTF-16 chars of the input string. */
    public int[] ends() {
        return ends;
    }

    /** The model's own sentence vector (mean or [CLS] pooling, normalised as the descriptor says). */
    public float[] pooled() {
        return pooled;
    }

    /** Whether tokens beyond the limit were dropped. */
    public boolean truncated() {
        return truncated;
    }

    @Override
    public String toString() {
        return "EncodedText[tokens=" + ids.length + ", dims=" + dims + ", truncated=" + truncated + "]";
    }
}
