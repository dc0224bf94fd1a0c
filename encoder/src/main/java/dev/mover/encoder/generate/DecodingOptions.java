package dev.mover.encoder.generate;

/**
 * Decoding parameters of {@link OnnxSeq2SeqGenerator}: beam search with the decoding ideas of SPACES (bojone,
 * CAIL2020 summarization, first place).
 *
 * <p>Per step and per beam, on the model's logits {@code z} (in this order):
 * <ol>
 *   <li><b>copy bias</b>: {@code z[t] += copyBias} for every token {@code t} that continues an n-gram of the source,
 *       i.e. such that (last generated token, {@code t}) is a bigram of the source's token ids — the summary is
 *       nudged to keep copying a source phrase once it has started one;</li>
 *   <li><b>repetition blocking</b>: a token that would complete an n-gram of size {@code noRepeatNgramSize} already
 *       in the beam's output is removed ({@code z[t] = -inf});</li>
 *   <li>{@code z[eos] = -inf} while fewer than {@code minNewTokens} tokens were generated;</li>
 *   <li><b>sparse softmax</b> (SPACES' "Sparse Softmax"): only the {@code topK} largest logits are kept and the
 *       softmax is taken over them alone, {@code log p(t) = z[t] - logsumexp(top-k z)}; the others have
 *       probability 0 and cannot be chosen.</li>
 * </ol>
 * Beams are ranked by the sum of their log-probabilities; a finished hypothesis (ended by eos, or cut by a limit) is
 * scored {@code sum log p / len^lengthPenalty} with {@code len} the number of generated tokens. With
 * {@code numBeams = 1} this is greedy decoding.
 *
 * @param numBeams           beams kept per step, in [1, 16] (default 3)
 * @param topK               logits kept per step for the sparse softmax, in [1, 1000] (default 10)
 * @param copyBias           logit bonus for continuing a source n-gram, in [0, 100] (default 1.0; 0 = off)
 * @param noRepeatNgramSize  size of n-grams that may not repeat, 0 = off, else in [2, 10] (default 3)
 * @param lengthPenalty      exponent of the length normalisation, in [0, 5] (default 1.0)
 * @param minNewTokens       tokens generated before eos is allowed, in [0, 1000] (default 0)
 */
public record DecodingOptions(int numBeams, int topK, double copyBias, int noRepeatNgramSize, double lengthPenalty,
                              int minNewTokens) {

    /** The defaults: beam 3, top-k 10, copy bias 1.0, no repeated trigrams, length penalty 1.0, no minimum. */
    public static final DecodingOptions DEFAULT = new DecodingOptions(3, 10, 1.0, 3, 1.0, 0);

    public DecodingOptions {
        check("num_beams", numBeams, 1, 16);
        check("top_k", topK, 1, 1000);
        if (!(copyBias >= 0 && copyBias <= 100)) {
            throw new IllegalArgumentException("[copy_bias] must be in [0, 100] but was [" + copyBias + "]");
        }
        if (noRepeatNgramSize != 0) {
            check("no_repeat_ngram_size", noRepeatNgramSize, 2, 10);
        }
        if (!(lengthPenalty >= 0 && lengthPenalty <= 5)) {
            throw new IllegalArgumentException("[length_penalty] must be in [0, 5] but was [" + lengthPenalty + "]");
        }
        check("min_new_tokens", minNewTokens, 0, 1000);
    }

    private static void check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("[" + name + "] must be in [" + min + ", " + max + "] but was [" + v + "]");
        }
    }

    /** A copy with another beam count. */
    public DecodingOptions withNumBeams(int v) {
        return new DecodingOptions(v, topK, copyBias, noRepeatNgramSize, lengthPenalty, minNewTokens);
    }

    /** A copy with another top-k. */
    public DecodingOptions withTopK(int v) {
        return new DecodingOptions(numBeams, v, copyBias, noRepeatNgramSize, lengthPenalty, minNewTokens);
    }

    /** A copy with another copy bias. */
    public DecodingOptions withCopyBias(double v) {
        return new DecodingOptions(numBeams, topK, v, noRepeatNgramSize, lengthPenalty, minNewTokens);
    }

    /** A copy with another repetition-blocking n-gram size (0 = off). */
    public DecodingOptions withNoRepeatNgramSize(int v) {
        return new DecodingOptions(numBeams, topK, copyBias, v, lengthPenalty, minNewTokens);
    }

    /** A copy with another length penalty. */
    public DecodingOptions withLengthPenalty(double v) {
        return new DecodingOptions(numBeams, topK, copyBias, noRepeatNgramSize, v, minNewTokens);
    }

    /** A copy with another minimum length. */
    public DecodingOptions withMinNewTokens(int v) {
        return new DecodingOptions(numBeams, topK, copyBias, noRepeatNgramSize, lengthPenalty, v);
    }
}
