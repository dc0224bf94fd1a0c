package dev.mover.scoring;

import dev.mover.scoring.codec.TokenVectorCodec;

import java.util.Locale;

/**
 * An immutable view of {@code rows} token vectors of {@code dims} components, stored row-major in a float or a double
 * array. Arithmetic on the vectors is always done in double precision; the float storage is what the index keeps, the
 * double storage exists for reference data (golden files, benchmarks) whose inputs are float64.
 *
 * <p>Factories validate that every component is finite, so the solvers never see NaN or infinity. The array is not
 * copied: callers must not modify it while a scorer uses the matrix.
 */
public final class TokenMatrix {
    private final float[] floats;
    private final double[] doubles;
    private final int rows;
    private final int dims;

    private TokenMatrix(float[] floats, double[] doubles, int rows, int dims) {
        this.floats = floats;
        this.doubles = doubles;
        this.rows = rows;
        this.dims = dims;
    }

    /**
     * Wraps float vectors.
     *
     * @param data row-major components, {@code data.length == rows * dims}
     * @param rows number of tokens, may be 0 (an empty sequence is rejected only when it is scored)
     * @param dims number of components per token, at least 1
     * @throws IllegalArgumentException if the shape does not match or a component is NaN or infinite
     */
    public static TokenMatrix of(float[] data, int rows, int dims) {
        checkShape(data == null ? -1 : data.length, rows, dims);
        for (int k = 0; k < data.length; k++) {
            if (!Float.isFinite(data[k])) {
                throw nonFinite(k, dims, data[k]);
            }
        }
        return new TokenMatrix(data, null, rows, dims);
    }

    /**
     * Wraps the vectors of a decoded stored value without scanning them again when the decoder proved them finite
     * ({@link TokenVectorCodec.Decoded#finite()}); otherwise as {@link #of(float[], int, int)}. The caller must not
     * have modified {@code decoded.vectors()}.
     *
     * @throws IllegalArgumentException as {@link #of(float[], int, int)}
     */
    public static TokenMatrix of(TokenVectorCodec.Decoded decoded) {
        if (decoded == null) {
            throw new IllegalArgumentException("[mover] decoded value must not be null");
        }
        if (!decoded.finite()) {
            return of(decoded.vectors(), decoded.tokens(), decoded.dims());
        }
        checkShape(decoded.vectors().length, decoded.tokens(), decoded.dims());
        return new TokenMatrix(decoded.vectors(), null, decoded.tokens(), decoded.dims());
    }

    /** Wraps double vectors; same contract as {@link #of(float[], int, int)}. */
    public static TokenMatrix ofDoubles(double[] data, int rows, int dims) {
        checkShape(data == null ? -1 : data.length, rows, dims);
        for (int k = 0; k < data.length; k++) {
            if (!Double.isFinite(data[k])) {
                throw nonFinite(k, dims, data[k]);
            }
        }
        return new TokenMatrix(null, data, rows, dims);
    }

    private static void checkShape(int length, int rows, int dims) {
        if (length < 0) {
            throw new IllegalArgumentException("[mover] token matrix data must not be null");
        }
        if (rows < 0 || dims < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] token matrix needs rows >= 0 and dims >= 1 but was rows [%d], dims [%d]", rows, dims));
        }
        if ((long) rows * dims != length) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] token matrix data length [%d] is not rows [%d] x dims [%d]", length, rows, dims));
        }
    }

    private static IllegalArgumentException nonFinite(int k, int dims, double v) {
        return new IllegalArgumentException(String.format(Locale.ROOT,
            "[mover] token [%d] component [%d] is not finite [%s]", k / dims, k % dims, v));
    }

    /** Number of tokens. */
    public int rows() {
        return rows;
    }

    /** Number of components per token. */
    public int dims() {
        return dims;
    }

    /** Component {@code c} of token {@code r}, widened to double. */
    public double get(int r, int c) {
        int k = r * dims + c;
        return floats != null ? floats[k] : doubles[k];
    }

    /** The double storage itself (never written by the scorer), or null for float storage. */
    double[] doublesOrNull() {
        return doubles;
    }

    /** The float storage itself (never written by the scorer), or null for double storage. */
    float[] floatsOrNull() {
        return floats;
    }

    /** Copies all components, widened to double, into {@code out} starting at {@code offset}. */
    void copyTo(double[] out, int offset) {
        int len = rows * dims;
        if (floats != null) {
            for (int k = 0; k < len; k++) {
                out[offset + k] = floats[k];
            }
        } else {
            System.arraycopy(doubles, 0, out, offset, len);
        }
    }

    /** Copies token {@code r}, widened to double, into {@code out} at {@code offset}. */
    void copyRow(int r, double[] out, int offset) {
        int base = r * dims;
        if (floats != null) {
            for (int c = 0; c < dims; c++) {
                out[offset + c] = floats[base + c];
            }
        } else {
            System.arraycopy(doubles, base, out, offset, dims);
        }
    }
}
