package dev.mover.encoder;

import java.util.Locale;
import java.util.Objects;

/**
 * Settings of a {@link TextEncoder}. Immutable; build with {@link #builder()}, defaults from {@link #defaults()}.
 */
public final class EncoderConfig {
    /** How a text longer than one model pass (max positions - 2 content tokens) is encoded. */
    public enum LongText {
        /** Keep the first {@code max_positions - 2} tokens ({@link EncodedText#truncated()} set). */
        TRUNCATE,
        /**
         * Overlapping windows of {@code max_positions} positions ({@code max_positions - 2} content tokens each,
         * consecutive windows sharing {@link EncoderConfig#windowOverlap()} tokens, the last one aligned to the end); a token in
         * an overlap is taken from the window where it sits most centrally (ties: the earlier window). Offsets stay
         * exact. The pooled vector is the average of the windows' own pooled vectors, weighted by the tokens each
         * window contributes, then normalised as the model says. Cost is linear in the length.
         */
        WINDOWS,
        /**
         * One pass with the position table extended past {@code max_positions} by hierarchical decomposition
         * (Su, 2020): {@code q[k] = a*u[k / n] + (1 - a)*u[k % n]}, {@code u = (P - a*P[0]) / (1 - a)},
         * {@code a = 0.4}, applied once when the model is opened (graph rewrite; outputs below 512 positions are
         * unchanged). Positions {@code >= 512} were never trained: the vectors there are usable but drift from what
         * the windowed encoding gives (MiniLM: mean cosine to the windowed vector of the same token about 0.36 past
         * 512, against 0.67 below 512 in the same 2,048-token pass).
         *
         * <p>Cost: attention is quadratic in the length and {@link EncoderConfig#maxTokens()} bounds it. Measured on this
         * project's 2-core machine under load: one 4,096-token pass takes 5 to 11 s (MiniLM) and raises the
         * process's resident memory by about 1.6 GB (MiniLM, 12 heads) / 1.1 GB (bge-small-zh), which ONNX
         * Runtime's arena keeps for the next pass; a 2,048-token pass takes 1 to 2 s. Keep {@code max_tokens}
         * at 2,048 or less on shared nodes.
         */
        HIERARCHICAL;

        /** Parses {@code truncate}, {@code windows} or {@code hierarchical}. */
        public static LongText parse(String s) {
            for (LongText v : values()) {
                if (v.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("[mover] long_text must be one of [truncate, windows, hierarchical] but was [" + s + "]");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What happens to a text with more than {@link EncoderConfig#maxTokens()} tokens. */
    public enum Overflow {
        /** Cut to the limit and set {@link EncodedText#truncated()}. */
        TRUNCATE,
        /** Throw {@link IllegalArgumentException}. */
        ERROR;

        /** Parses {@code truncate} or {@code error}. */
        public static Overflow parse(String s) {
            for (Overflow v : values()) {
                if (v.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("[mover] on_overflow must be one of [truncate, error] but was [" + s + "]");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Default {@link #intraOpThreads()}: 1, so that concurrent callers do not oversubscribe the cores. */
    public static final int DEFAULT_INTRA_OP_THREADS = 1;
    /** Default {@link #maxTokens()}. */
    public static final int DEFAULT_MAX_TOKENS = 4096;
    /** Upper bound of {@link #maxTokens()}; a hierarchical pass over 16,384 tokens already needs gigabytes. */
    public static final int MAX_MAX_TOKENS = 16384;
    /** Default {@link #windowOverlap()} in tokens. */
    public static final int DEFAULT_WINDOW_OVERLAP = 128;
    /** Default {@link #batchSize()}. */
    public static final int DEFAULT_BATCH_SIZE = 32;
    /** Default {@link #maxBatchPositions()}: padded positions per ONNX Runtime call. */
    public static final int DEFAULT_MAX_BATCH_POSITIONS = 8192;

    private static final EncoderConfig DEFAULTS = builder().build();

    private final int intraOpThreads;
    private final int maxTokens;
    private final LongText longText;
    private final int windowOverlap;
    private final boolean keepSpecialTokens;
    private final Overflow onOverflow;
    private final int batchSize;
    private final int maxBatchPositions;

    private EncoderConfig(Builder b) {
        this.intraOpThreads = b.intraOpThreads;
        this.maxTokens = b.maxTokens;
        this.longText = b.longText;
        this.windowOverlap = b.windowOverlap;
        this.keepSpecialTokens = b.keepSpecialTokens;
        this.onOverflow = b.onOverflow;
        this.batchSize = b.batchSize;
        this.maxBatchPositions = b.maxBatchPositions;
    }

    /** The defaults: 1 thread, 4,096 max tokens, windows with overlap 128, no special tokens, cut on overflow. */
    public static EncoderConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.intraOpThreads = intraOpThreads;
        b.maxTokens = maxTokens;
        b.longText = longText;
        b.windowOverlap = windowOverlap;
        b.keepSpecialTokens = keepSpecialTokens;
        b.onOverflow = onOverflow;
        b.batchSize = batchSize;
        b.maxBatchPositions = maxBatchPositions;
        return b;
    }

    /** ONNX Runtime intra-op threads of each session. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Maximum content tokens of one text (special tokens not counted). */
    public int maxTokens() {
        return maxTokens;
    }

    /** Long-text strategy. */
    public LongText longText() {
        return longText;
    }

    /** Tokens shared by two consecutive windows ({@link LongText#WINDOWS}). */
    public int windowOverlap() {
        return windowOverlap;
    }

    /** Whether [CLS] and [SEP] stay in the stored sequence. */
    public boolean keepSpecialTokens() {
        return keepSpecialTokens;
    }

    /** What happens beyond {@link #maxTokens()}. */
    public Overflow onOverflow() {
        return onOverflow;
    }

    /** Most sequences per ONNX Runtime call. */
    public int batchSize() {
        return batchSize;
    }

    /** Most padded positions (batch x longest) per ONNX Runtime call; a single longer sequence still runs alone. */
    public int maxBatchPositions() {
        return maxBatchPositions;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EncoderConfig)) {
            return false;
        }
        EncoderConfig c = (EncoderConfig) o;
        return intraOpThreads == c.intraOpThreads && maxTokens == c.maxTokens && longText == c.longText
            && windowOverlap == c.windowOverlap && keepSpecialTokens == c.keepSpecialTokens
            && onOverflow == c.onOverflow && batchSize == c.batchSize && maxBatchPositions == c.maxBatchPositions;
    }

    @Override
    public int hashCode() {
        return Objects.hash(intraOpThreads, maxTokens, longText, windowOverlap, keepSpecialTokens, onOverflow,
            batchSize, maxBatchPositions);
    }

    @Override
    public String toString() {
        return "EncoderConfig[threads=" + intraOpThreads + ", max_tokens=" + maxTokens + ", long_text=" + longText
            + ", window_overlap=" + windowOverlap + ", keep_special_tokens=" + keepSpecialTokens + ", on_overflow="
            + onOverflow + ", batch_size=" + batchSize + ", max_batch_positions=" + maxBatchPositions + "]";
    }

    /** Builder; every setter validates its value. */
    public static final class Builder {
        private int intraOpThreads = DEFAULT_INTRA_OP_THREADS;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private LongText longText = LongText.WINDOWS;
        private int windowOverlap = DEFAULT_WINDOW_OVERLAP;
        private boolean keepSpecialTokens = false;
        private Overflow onOverflow = Overflow.TRUNCATE;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private int maxBatchPositions = DEFAULT_MAX_BATCH_POSITIONS;

        private Builder() {}

        /** ONNX Runtime intra-op threads, in [1, 64]. */
        public Builder intraOpThreads(int n) {
            this.intraOpThreads = range("intra_op_threads", n, 1, 64);
            return this;
        }

        /** Maximum content tokens of one text, in [1, 16384]. */
        public Builder maxTokens(int n) {
            this.maxTokens = range("max_tokens", n, 1, MAX_MAX_TOKENS);
            return this;
        }

        /** Long-text strategy. */
        public Builder longText(LongText s) {
            this.longText = Objects.requireNonNull(s, "long_text");
            return this;
        }

        /**
         * Window overlap in tokens, in [0, 255] (a window holds 510 content tokens for 512 positions); models with
         * fewer positions use at most half a window.
         */
        public Builder windowOverlap(int n) {
            this.windowOverlap = range("window_overlap", n, 0, 255);
            return this;
        }

        /** Keep [CLS] and [SEP] in the stored sequence. */
        public Builder keepSpecialTokens(boolean keep) {
            this.keepSpecialTokens = keep;
            return this;
        }

        /** What happens beyond max tokens. */
        public Builder onOverflow(Overflow o) {
            this.onOverflow = Objects.requireNonNull(o, "on_overflow");
            return this;
        }

        /** Most sequences per ONNX Runtime call, in [1, 1024]. */
        public Builder batchSize(int n) {
            this.batchSize = range("batch_size", n, 1, 1024);
            return this;
        }

        /** Most padded positions per ONNX Runtime call, in [512, 1048576]. */
        public Builder maxBatchPositions(int n) {
            this.maxBatchPositions = range("max_batch_positions", n, 512, 1 << 20);
            return this;
        }

        public EncoderConfig build() {
            return new EncoderConfig(this);
        }

        private static int range(String name, int v, int min, int max) {
            if (v < min || v > max) {
                throw new IllegalArgumentException(
                    "[mover] " + name + " must be in [" + min + ", " + max + "] but was [" + v + "]");
            }
            return v;
        }
    }
}
