package dev.mover.encoder.generate;

import java.util.List;
import java.util.Locale;

/**
 * What to summarize and within which limits.
 *
 * @param units            the extracted units (sentences or clauses), in document order; at least one, none null
 * @param query            the user's query the summary should answer, or {@code null}
 * @param language         language hint ({@code "en"}, {@code "zh"}, ...) or {@code null} to let the generator
 *                         decide from the text
 * @param maxNewTokens     maximum number of tokens to generate, in [1, {@value #MAX_NEW_TOKENS}]
 * @param timeBudgetMillis wall-time budget for the whole call, in [1, {@value #MAX_TIME_BUDGET_MILLIS}]
 */
public record GenerationRequest(List<String> units, String query, String language, int maxNewTokens,
                                long timeBudgetMillis) {

    /** Upper bound of {@link #maxNewTokens()}. */
    public static final int MAX_NEW_TOKENS = 4_096;
    /** Upper bound of {@link #timeBudgetMillis()} (10 minutes). */
    public static final long MAX_TIME_BUDGET_MILLIS = 600_000;

    public GenerationRequest {
        if (units == null || units.isEmpty()) {
            throw new IllegalArgumentException("[units] must hold at least one extracted unit but was "
                + (units == null ? "[null]" : "empty"));
        }
        for (int i = 0; i < units.size(); i++) {
            if (units.get(i) == null) {
                throw new IllegalArgumentException("[units] must not contain null but unit [" + i + "] was null");
            }
        }
        units = List.copyOf(units);
        if (maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS) {
            throw new IllegalArgumentException("[max_new_tokens] must be in [1, " + MAX_NEW_TOKENS + "] but was ["
                + maxNewTokens + "]");
        }
        if (timeBudgetMillis < 1 || timeBudgetMillis > MAX_TIME_BUDGET_MILLIS) {
            throw new IllegalArgumentException("[time_budget_ms] must be in [1, " + MAX_TIME_BUDGET_MILLIS
                + "] but was [" + timeBudgetMillis + "]");
        }
        if (query != null && query.isBlank()) {
            query = null;
        }
        if (language != null) {
            language = language.isBlank() ? null : language.trim().toLowerCase(Locale.ROOT);
        }
    }

    /** A request with no query or language hint, 128 new tokens and a 30 s budget. */
    public static GenerationRequest of(List<String> units) {
        return new GenerationRequest(units, null, null, 128, 30_000);
    }

    /** The units joined by single spaces (by nothing between two CJK units), the source the summary must stick to. */
    public String sourceText() {
        StringBuilder sb = new StringBuilder();
        for (String u : units) {
            String t = u.strip();
            if (t.isEmpty()) {
                continue;
            }
            if (sb.length() > 0 && !(SupportChecker.isCjk(sb.codePointBefore(sb.length())) && SupportChecker.isCjk(t.codePointAt(0)))) {
                sb.append(' ');
            }
            sb.append(t);
        }
        return sb.toString();
    }

    /** Whether the language hint (or, without one, the source text) is Chinese/Japanese/Korean. */
    public boolean isCjk() {
        if (language != null) {
            return language.startsWith("zh") || language.startsWith("ja") || language.startsWith("ko");
        }
        return SupportChecker.mostlyCjk(sourceText());
    }
}
