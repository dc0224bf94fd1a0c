package dev.mover.scoring.codec;

import dev.mover.scoring.CostMatrix;

import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Versioned binary format of one field value: the token vectors of one text, their character offsets and the
 * fingerprint of the model that made them.
 *
 * <p>Layout (all multi-byte numbers little-endian):
 * <pre>
 *   magic        4 bytes  'M' 'V' 'T' 'V'
 *   version      1 byte   {@link #VERSION_CURRENT}
 *   encoding     1 byte   0 = float32, 1 = int8, 2 = int4
 *   dims         2 bytes  unsigned, 1..65535
 *   tokens       4 bytes  unsigned count, at most {@link #MAX_TOKENS}
 *   fingerprint  8 bytes  model fingerprint (the encoder's {@code fingerprint()})
 *   vectors      tokens x stride bytes:
 *                  float32: dims x float32
 *                  int8:    float32 scale s, then dims x int8 q in [-127, 127]; x = q * s
 *                  int4:    float32 scale s, then ceil(dims / 2) bytes of two 4-bit codes (low nibble first),
 *                           code = q + 8 with q in [-7, 7] (code 0 is invalid, the pad nibble of odd dims is 0)
 *   offsets      per token: zigzag varint (start - previous start), varint (end - start)
 *   crc32c       4 bytes  CRC-32C of every byte before it
 * </pre>
 * The vectors block has a fixed stride, so a reader can reach token {@code i} directly. Quantisation is per
 * token: {@code s = max|x| / 127} (int8) or {@code max|x| / 7} (int4), {@code q = round(x / s)}.
 *
 * <p>{@link #decode(byte[], int, int)} validates the whole value (magic, version, encoding, sizes, scales, codes,
 * offsets, checksum, exact length) and throws {@link IllegalArgumentException} with the reason.
 */
public final class TokenVectorCodec {
    /** First format version. */
    public static final byte VERSION_1 = 1;
    /** The version {@link #encode} writes. */
    public static final byte VERSION_CURRENT = VERSION_1;
    /** Bytes before the vectors block. */
    public static final int HEADER_BYTES = 20;
    /** Most tokens one value may hold. */
    public static final int MAX_TOKENS = 1 << 20;

    /** The encoding to use when none is configured: {@link Encoding#INT8}. */
    public static final Encoding DEFAULT_ENCODING = Encoding.INT8;

    private static final byte[] MAGIC = {'M', 'V', 'T', 'V'};

    /** How the vector components are stored. */
    public enum Encoding {
        /** 4 bytes per component, exact. */
        FLOAT32((byte) 0),
        /** Per-token float scale plus one signed byte per component (the default). */
        INT8((byte) 1),
        /** Per-token float scale plus 4 bits per component. */
        INT4((byte) 2);

        private final byte code;

        Encoding(byte code) {
            this.code = code;
        }

        /** The byte stored in the header. */
        public byte code() {
            return code;
        }

        /** Bytes per token of the vectors block for {@code dims} components. */
        public int stride(int dims) {
            switch (this) {
                case FLOAT32:
                    return dims * Float.BYTES;
                case INT8:
                    return Float.BYTES + dims;
                default:
                    return Float.BYTES + (dims + 1) / 2;
            }
        }

        /** Parses {@code float32}, {@code int8} or {@code int4}. */
        public static Encoding parse(String s) {
            for (Encoding e : values()) {
                if (e.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return e;
                }
            }
            throw new IllegalArgumentException("[mover] encoding must be one of [float32, int8, int4] but was [" + s + "]");
        }

        static Encoding ofCode(int code) {
            for (Encoding e : values()) {
                if (e.code == code) {
                    return e;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A decoded value. Arrays are owned by the caller. */
    public static final class Decoded {
        private final Encoding encoding;
        private final int dims;
        private final int tokens;
        private final long fingerprint;
        private final float[] vectors;
        private final int[] starts;
        private final int[] ends;
        private final boolean finite;

        Decoded(Encoding encoding, int dims, int tokens, long fingerprint, float[] vectors, int[] starts, int[] ends,
                boolean finite) {
            this.finite = finite;
            this.encoding = encoding;
            this.dims = dims;
            this.tokens = tokens;
            this.fingerprint = fingerprint;
            this.vectors = vectors;
            this.starts = starts;
            this.ends = ends;
        }

        public Encoding encoding() {
            return encoding;
        }

        public int dims() {
            return dims;
        }

        public int tokens() {
            return tokens;
        }

        public long fingerprint() {
            return fingerprint;
        }

        /** Dequantised vectors, row-major {@code tokens x dims}. */
        public float[] vectors() {
            return vectors;
        }

        /**
         * True if the decoder has proven every component of {@link #vectors()} finite (float32 values are checked,
         * quantised ones are when no scale can overflow), so {@code TokenMatrix.of(Decoded)} need not scan them again.
         */
        public boolean finite() {
            return finite;
        }

        /** Token start offsets (UTF-16 chars). */
        public int[] starts() {
            return starts;
        }

        /** Token end offsets (UTF-16 chars, exclusive). */
        public int[] ends() {
            return ends;
        }
    }

    private TokenVectorCodec() {}

    /**
     * True if {@code buf[off, off + len)} starts with the magic bytes {@code MVTV}: a cheap test of whether a stored
     * value is a bare codec value (rather than, say, one wrapped in another layout). It validates nothing else.
     */
    public static boolean startsWithMagic(byte[] buf, int off, int len) {
        if (buf == null || off < 0 || len < MAGIC.length || off > buf.length - MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (buf[off + i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Encodes {@code starts.length} token vectors of width {@code dims}.
     *
     * @throws IllegalArgumentException on inconsistent sizes, non-finite components or bad offsets
     */
    public static byte[] encode(float[] vectors, int dims, int[] starts, int[] ends, Encoding enc, long fingerprint) {
        Objects.requireNonNull(enc, "encoding");
        int n = starts.length;
        if (dims < 1 || dims > 0xFFFF) {
            throw new IllegalArgumentException("[mover] dims must be in [1, 65535] but was [" + dims + "]");
        }
        if (n > MAX_TOKENS) {
            throw new IllegalArgumentException("[mover] token count must be at most [" + MAX_TOKENS + "] but was [" + n + "]");
        }
        if (ends.length != n || vectors.length != (long) n * dims) {
            throw new IllegalArgumentException("[mover] sizes disagree: starts [" + n + "], ends [" + ends.length
                + "], vectors [" + vectors.length + "] for dims [" + dims + "]");
        }
        int stride = enc.stride(dims);
        long capacity = HEADER_BYTES + (long) n * stride + 10L * n + 4;
        if (capacity > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("[mover] [" + n + "] tokens of [" + dims + "] dims in [" + enc
                + "] do not fit in one value");
        }
        byte[] out = new byte[(int) capacity];
        System.arraycopy(MAGIC, 0, out, 0, 4);
        out[4] = VERSION_CURRENT;
        out[5] = enc.code();
        putShort(out, 6, dims);
        putInt(out, 8, n);
        putLong(out, 12, fingerprint);
        int p = HEADER_BYTES;
        for (int t = 0; t < n; t++) {
            int base = t * dims;
            float maxAbs = 0;
            for (int d = 0; d < dims; d++) {
                float x = vectors[base + d];
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("[mover] component [" + d + "] of token [" + t + "] is not finite [" + x + "]");
                }
                maxAbs = Math.max(maxAbs, Math.abs(x));
            }
            switch (enc) {
                case FLOAT32:
                    for (int d = 0; d < dims; d++) {
                        putInt(out, p, Float.floatToIntBits(vectors[base + d]));
                        p += 4;
                    }
                    break;
                case INT8: {
                    float scale = maxAbs / 127f;
                    putInt(out, p, Float.floatToIntBits(scale));
                    p += 4;
                    float inv = scale > 0 ? 1f / scale : 0f;
                    for (int d = 0; d < dims; d++) {
                        int q = Math.round(vectors[base + d] * inv);
                        out[p++] = (byte) Math.max(-127, Math.min(127, q));
                    }
                    break;
                }
                default: {
                    float scale = maxAbs / 7f;
                    putInt(out, p, Float.floatToIntBits(scale));
                    p += 4;
                    float inv = scale > 0 ? 1f / scale : 0f;
                    for (int d = 0; d < dims; d += 2) {
                        int lo = Math.max(-7, Math.min(7, Math.round(vectors[base + d] * inv))) + 8;
                        int hi = d + 1 < dims ? Math.max(-7, Math.min(7, Math.round(vectors[base + d + 1] * inv))) + 8 : 0;
                        out[p++] = (byte) (lo | (hi << 4));
                    }
                    break;
                }
            }
        }
        int prevStart = 0;
        for (int t = 0; t < n; t++) {
            if (starts[t] < 0 || ends[t] < starts[t]) {
                throw new IllegalArgumentException("[mover] token [" + t + "] has bad offsets [" + starts[t] + ", " + ends[t] + "]");
            }
            p = putVarint(out, p, zigzag(starts[t] - prevStart));
            p = putVarint(out, p, ends[t] - starts[t]);
            prevStart = starts[t];
        }
        CRC32C crc = new CRC32C();
        crc.update(out, 0, p);
        putInt(out, p, (int) crc.getValue());
        p += 4;
        return p == out.length ? out : java.util.Arrays.copyOf(out, p);
    }

    /**
     * Decodes and validates one value stored in {@code buf[off, off + len)}.
     *
     * @throws IllegalArgumentException if the value is truncated, corrupt, of an unknown version or encoding, or
     *                                  longer than its content
     */
    public static Decoded decode(byte[] buf, int off, int len) {
        Objects.requireNonNull(buf, "buf");
        if (off < 0 || len < 0 || off > buf.length - len) {
            throw new IllegalArgumentException("[mover] token vectors: range [" + off + ", " + len + "] is outside the buffer [" + buf.length + "]");
        }
        if (len < HEADER_BYTES + 4) {
            throw new IllegalArgumentException("[mover] token vectors are truncated: [" + len + "] bytes, the header alone needs [" + (HEADER_BYTES + 4) + "]");
        }
        for (int i = 0; i < 4; i++) {
            if (buf[off + i] != MAGIC[i]) {
                throw new IllegalArgumentException("[mover] token vectors: bad magic, not a Mover token-vector value");
            }
        }
        int version = buf[off + 4];
        if (version != VERSION_1) {
            throw new IllegalArgumentException("[mover] token vectors: unsupported version [" + version + "], this build reads [" + VERSION_1 + "]");
        }
        Encoding enc = Encoding.ofCode(buf[off + 5]);
        if (enc == null) {
            throw new IllegalArgumentException("[mover] token vectors: unknown encoding [" + buf[off + 5] + "]");
        }
        int dims = getShort(buf, off + 6);
        long tokensL = getInt(buf, off + 8) & 0xFFFFFFFFL;
        long fingerprint = getLong(buf, off + 12);
        if (dims == 0) {
            throw new IllegalArgumentException("[mover] token vectors: dims [0] is invalid");
        }
        if (tokensL > MAX_TOKENS) {
            throw new IllegalArgumentException("[mover] token vectors: token count [" + tokensL + "] is above the maximum [" + MAX_TOKENS + "]");
        }
        int n = (int) tokensL;
        if ((long) n * dims > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("[mover] token vectors: [" + n + "] tokens of [" + dims + "] dims are too many to decode");
        }
        int stride = enc.stride(dims);
        long vecEnd = HEADER_BYTES + (long) n * stride;
        // every token needs at least 2 offset bytes, and the checksum 4
        if (vecEnd + 2L * n + 4 > len) {
            throw new IllegalArgumentException("[mover] token vectors are truncated: [" + len + "] bytes for [" + n
                + "] tokens of [" + dims + "] dims in [" + enc + "] (needs at least [" + (vecEnd + 2L * n + 4) + "])");
        }
        int end = off + len;
        CRC32C crc = new CRC32C();
        crc.update(buf, off, len - 4);
        int stored = getInt(buf, end - 4);
        if (stored != (int) crc.getValue()) {
            throw new IllegalArgumentException("[mover] token vectors are corrupt: checksum mismatch");
        }
        float[] vectors = new float[n * dims];
        // float32 components are checked one by one; a quantised one is finite when |code| x scale cannot overflow
        boolean finite = true;
        int p = off + HEADER_BYTES;
        for (int t = 0; t < n; t++) {
            int base = t * dims;
            switch (enc) {
                case FLOAT32:
                    for (int d = 0; d < dims; d++) {
                        float x = Float.intBitsToFloat(getInt(buf, p));
                        p += 4;
                        if (!Float.isFinite(x)) {
                            throw new IllegalArgumentException("[mover] token vectors are corrupt: component [" + d + "] of token [" + t + "] is not finite");
                        }
                        vectors[base + d] = x;
                    }
                    break;
                case INT8: {
                    float scale = scale(buf, p, t);
                    p += 4;
                    if (!CostMatrix.dequantizeInt8(buf, p, dims, scale, vectors, base)) {
                        throw new IllegalArgumentException("[mover] token vectors are corrupt: int8 code [-128] in token [" + t + "]");
                    }
                    p += dims;
                    finite &= scale <= Float.MAX_VALUE / 127.0;
                    break;
                }
                default: {
                    float scale = scale(buf, p, t);
                    p += 4;
                    finite &= scale <= Float.MAX_VALUE / 7.0;
                    for (int d = 0; d < dims; d += 2) {
                        int b = buf[p++] & 0xFF;
                        int lo = b & 0xF;
                        int hi = b >>> 4;
                        if (lo == 0 || (d + 1 < dims ? hi == 0 : hi != 0)) {
                            throw new IllegalArgumentException("[mover] token vectors are corrupt: bad int4 codes [" + b + "] in token [" + t + "]");
                        }
                        vectors[base + d] = (lo - 8) * scale;
                        if (d + 1 < dims) {
                            vectors[base + d + 1] = (hi - 8) * scale;
                        }
                    }
                    break;
                }
            }
        }
        int[] starts = new int[n];
        int[] ends = new int[n];
        int limit = end - 4;
        long prevStart = 0;
        int[] pos = {p};
        for (int t = 0; t < n; t++) {
            long delta = unzigzag(readVarint(buf, pos, limit, t));
            long length = readVarint(buf, pos, limit, t);
            long start = prevStart + delta;
            long stop = start + length;
            if (start < 0 || stop > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("[mover] token vectors are corrupt: offsets [" + start + ", " + stop + "] of token [" + t + "]");
            }
            starts[t] = (int) start;
            ends[t] = (int) stop;
            prevStart = start;
        }
        if (pos[0] != limit) {
            throw new IllegalArgumentException("[mover] token vectors: length mismatch, [" + (limit - pos[0]) + "] unexpected bytes after the offsets");
        }
        return new Decoded(enc, dims, n, fingerprint, vectors, starts, ends, finite);
    }

    private static float scale(byte[] buf, int p, int t) {
        float s = Float.intBitsToFloat(getInt(buf, p));
        if (!(s >= 0) || !Float.isFinite(s)) {
            throw new IllegalArgumentException("[mover] token vectors are corrupt: scale [" + s + "] of token [" + t + "]");
        }
        return s;
    }

    private static int zigzag(int v) {
        return (v << 1) ^ (v >> 31);
    }

    private static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    private static int putVarint(byte[] out, int p, int v) {
        while ((v & ~0x7F) != 0) {
            out[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[p++] = (byte) v;
        return p;
    }

    private static long readVarint(byte[] buf, int[] pos, int limit, int t) {
        long v = 0;
        int shift = 0;
        int p = pos[0];
        while (true) {
            if (p >= limit) {
                throw new IllegalArgumentException("[mover] token vectors are truncated: offsets of token [" + t + "] run past the end");
            }
            int b = buf[p++] & 0xFF;
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 28) {
                throw new IllegalArgumentException("[mover] token vectors are corrupt: varint too long at token [" + t + "]");
            }
        }
        pos[0] = p;
        return v & 0xFFFFFFFFL;
    }

    private static void putShort(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
    }

    private static void putInt(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }

    private static void putLong(byte[] b, int p, long v) {
        putInt(b, p, (int) v);
        putInt(b, p + 4, (int) (v >>> 32));
    }

    private static int getShort(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
    }

    private static int getInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    private static long getLong(byte[] b, int p) {
        return (getInt(b, p) & 0xFFFFFFFFL) | ((long) getInt(b, p + 4)) << 32;
    }
}
