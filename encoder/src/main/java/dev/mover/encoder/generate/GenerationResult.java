package dev.mover.encoder.generate;

import java.util.List;

/**
 * A generated summary.
 *
 * @param text        the summary
 * @param generator   the {@link Generator#name()} that produced it
 * @param sentences   the summary's sentences with their support in the source (see {@link SupportChecker}); empty
 *                    when the generator does not check support
 * @param warnings    non-fatal problems (stopped by a limit, unsupported sentences, truncated by the endpoint)
 * @param tokens      tokens generated (as counted by the generator; the endpoint's completion tokens when it
 *                    reports them, else -1)
 * @param stopReason  why generation stopped
 * @param tookMillis  wall time of the call
 */
public record GenerationResult(String text, String generator, List<SentenceSupport> sentences, List<String> warnings,
                               int tokens, StopReason stopReason, long tookMillis) {

    public GenerationResult {
        sentences = List.copyOf(sentences);
        warnings = List.copyOf(warnings);
    }

    /** Why generation stopped. */
    public enum StopReason {
        /** The model produced its end token (or the endpoint finished normally). */
        END,
        /** {@link GenerationRequest#maxNewTokens()} (or the model's maximum length) was reached. */
        MAX_TOKENS,
        /** {@link GenerationRequest#timeBudgetMillis()} ran out; the text is the best hypothesis so far. */
        TIME
    }

    /** Whether every checked sentence is supported by the source (true when nothing was checked). */
    public boolean allSupported() {
        for (SentenceSupport s : sentences) {
            if (!s.supported()) {
                return false;
            }
        }
        return true;
    }
}
