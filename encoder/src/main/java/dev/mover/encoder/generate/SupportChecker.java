package dev.mover.encoder.generate;

import dev.mover.encoder.text.SentenceSplitter;
import dev.mover.encoder.text.Span;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks each sentence of a generated summary for support in the source by n-gram overlap.
 *
 * <p><b>Rule.</b> Text is cut into <em>terms</em>: a run of letters and digits of a non-CJK script, lower-cased
 * ({@link Locale#ROOT}), is one term (a word); each Han, Hiragana, Katakana or Hangul character is one term
 * (a character). Punctuation and whitespace separate terms and are dropped. A sentence's n-grams are its term
 * bigrams — so word bigrams for English and character bigrams for Chinese, as asked — or its single term when it
 * has only one. The sentence's <em>overlap</em> is the share of its n-grams that occur in the source (bigrams of
 * the source's terms, computed over the whole source); it is <em>supported</em> when the overlap reaches the
 * threshold ({@value #DEFAULT_THRESHOLD} by default: at least half of the sentence's word pairs or character pairs
 * are copied from the source). A sentence with no terms (only punctuation) is supported.
 *
 * <p>Sentences come from {@link SentenceSplitter#sentences(String)}, with exact offsets into the summary.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class SupportChecker {

    /** Default support threshold: half of a sentence's n-grams must occur in the source. */
    public static final double DEFAULT_THRESHOLD = 0.5;

    private final Set<String> sourceBigrams;
    private final Set<String> sourceTerms;
    private final double threshold;

    /**
     * @param source    the source the summary must stick to (the extracted units, joined)
     * @param threshold overlap a sentence needs to be supported, in [0, 1]
     */
    public SupportChecker(String source, double threshold) {
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("[support_threshold] must be in [0, 1] but was [" + threshold + "]");
        }
        this.threshold = threshold;
        List<String> terms = terms(source == null ? "" : source);
        this.sourceTerms = new HashSet<>(terms);
        this.sourceBigrams = new HashSet<>(terms.size() * 2);
        for (int i = 0; i + 1 < terms.size(); i++) {
            sourceBigrams.add(bigram(terms.get(i), terms.get(i + 1)));
        }
    }

    /** The support threshold. */
    public double threshold() {
        return threshold;
    }

    /** Splits {@code summary} into sentences and checks each one. */
    public List<SentenceSupport> check(String summary) {
        List<SentenceSupport> out = new ArrayList<>();
        for (Span span : SentenceSplitter.sentences(summary)) {
            String sentence = span.text(summary);
            List<String> terms = terms(sentence);
            int total;
            int found = 0;
            if (terms.size() == 1) {
                total = 1;
                found = sourceTerms.contains(terms.get(0)) ? 1 : 0;
            } else {
                total = Math.max(0, terms.size() - 1);
                for (int i = 0; i + 1 < terms.size(); i++) {
                    if (sourceBigrams.contains(bigram(terms.get(i), terms.get(i + 1)))) {
                        found++;
                    }
                }
            }
            double overlap = total == 0 ? 1.0 : (double) found / total;
            out.add(new SentenceSupport(span.start(), span.end(), sentence, overlap, total, overlap >= threshold));
        }
        return out;
    }

    /** The terms of {@code text} as defined in the class comment. */
    static List<String> terms(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = text.length();
        StringBuilder word = new StringBuilder();
        while (i < n) {
            int cp = text.codePointAt(i);
            int len = Character.charCount(cp);
            if (isCjk(cp)) {
                flush(word, out);
                out.add(new String(Character.toChars(cp)));
            } else if (Character.isLetterOrDigit(cp) || Character.getType(cp) == Character.NON_SPACING_MARK) {
                word.appendCodePoint(cp);
            } else {
                flush(word, out);
            }
            i += len;
        }
        flush(word, out);
        return out;
    }

    private static void flush(StringBuilder word, List<String> out) {
        if (word.length() > 0) {
            out.add(word.toString().toLowerCase(Locale.ROOT));
            word.setLength(0);
        }
    }

    private static String bigram(String a, String b) {
        return a + '\u0000' + b;
    }

    /** Whether a code point is a Han, Hiragana, Katakana or Hangul character (one term each). */
    static boolean isCjk(int cp) {
        Character.UnicodeScript s = Character.UnicodeScript.of(cp);
        return s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA
            || s == Character.UnicodeScript.KATAKANA || s == Character.UnicodeScript.HANGUL;
    }

    /** Whether at least a third of the letters of {@code text} are CJK characters. */
    static boolean mostlyCjk(String text) {
        int letters = 0;
        int cjk = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            if (isCjk(cp)) {
                cjk++;
                letters++;
            } else if (Character.isLetter(cp)) {
                letters++;
            }
            i += Character.charCount(cp);
        }
        return letters > 0 && cjk * 3 >= letters;
    }
}
