package dev.mover.bench.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-N and ROUGE-L F1 (Lin 2004), written from the definitions.
 *
 * <p>Tokens: {@link Level#CHAR} makes every non-whitespace code point a token (character-level ROUGE for
 * Chinese, punctuation included, as SPACES' {@code compute_rouge} does by joining characters with spaces);
 * {@link Level#WORD} lower-cases and takes maximal runs of letters and digits (as the {@code rouge-score}
 * package's default tokenizer, without stemming).
 *
 * <p>ROUGE-N: clipped n-gram overlap {@code o}; {@code P = o / |cand n-grams|}, {@code R = o / |ref n-grams|},
 * {@code F1 = 2PR / (P + R)}, 0 when the overlap is 0. ROUGE-L: the same with the longest common subsequence of
 * the two token sequences. The CAIL2020 score is {@code 0.2·R1 + 0.4·R2 + 0.4·RL} of the F1 values.
 */
public final class Rouge {

    /** Tokenization level. */
    public enum Level {
        /** Every non-whitespace code point (Chinese). */
        CHAR,
        /** Lower-cased runs of letters and digits (English). */
        WORD
    }

    /**
     * The F1 values of one candidate against one reference.
     *
     * @param rouge1 ROUGE-1 F1
     * @param rouge2 ROUGE-2 F1
     * @param rougeL ROUGE-L F1
     */
    public record Scores(double rouge1, double rouge2, double rougeL) {
        /** CAIL2020 score {@code 0.2·R1 + 0.4·R2 + 0.4·RL}. */
        public double cail() {
            return 0.2 * rouge1 + 0.4 * rouge2 + 0.4 * rougeL;
        }
    }

    private Rouge() {}

    /** Tokens of {@code text} at the given level. */
    public static List<String> tokens(String text, Level level) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        if (level == Level.CHAR) {
            text.codePoints().filter(cp -> !Character.isWhitespace(cp) && !Character.isSpaceChar(cp))
                .forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        String lower = text.toLowerCase(Locale.ROOT);
        int i = 0;
        int n = lower.length();
        while (i < n) {
            int cp = lower.codePointAt(i);
            if (Character.isLetterOrDigit(cp)) {
                int j = i;
                while (j < n && Character.isLetterOrDigit(lower.codePointAt(j))) {
                    j += Character.charCount(lower.codePointAt(j));
                }
                out.add(lower.substring(i, j));
                i = j;
            } else {
                i += Character.charCount(cp);
            }
        }
        return out;
    }

    /** ROUGE-1, ROUGE-2 and ROUGE-L F1 of {@code candidate} against {@code reference}. */
    public static Scores score(String candidate, String reference, Level level) {
        List<String> c = tokens(candidate, level);
        List<String> r = tokens(reference, level);
        return new Scores(rougeN(c, r, 1), rougeN(c, r, 2), rougeL(c, r));
    }

    /** ROUGE-N F1 of token lists. */
    public static double rougeN(List<String> cand, List<String> ref, int n) {
        Map<List<String>, Integer> cc = ngrams(cand, n);
        Map<List<String>, Integer> rc = ngrams(ref, n);
        int cTotal = Math.max(0, cand.size() - n + 1);
        int rTotal = Math.max(0, ref.size() - n + 1);
        int overlap = 0;
        for (Map.Entry<List<String>, Integer> e : cc.entrySet()) {
            Integer r = rc.get(e.getKey());
            if (r != null) {
                overlap += Math.min(r, e.getValue());
            }
        }
        return f1(overlap, cTotal, rTotal);
    }

    /** ROUGE-L F1 of token lists (longest common subsequence). */
    public static double rougeL(List<String> cand, List<String> ref) {
        return f1(lcs(cand, ref), cand.size(), ref.size());
    }

    /** Length of the longest common subsequence, O(|a|·|b|) time, O(|b|) memory. */
    public static int lcs(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            String ai = a.get(i - 1);
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = ai.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    private static Map<List<String>, Integer> ngrams(List<String> toks, int n) {
        Map<List<String>, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= toks.size(); i++) {
            m.merge(toks.subList(i, i + n), 1, Integer::sum);
        }
        return m;
    }

    private static double f1(int overlap, int candTotal, int refTotal) {
        if (overlap == 0 || candTotal == 0 || refTotal == 0) {
            return 0;
        }
        double p = (double) overlap / candTotal;
        double r = (double) overlap / refTotal;
        return 2 * p * r / (p + r);
    }
}
