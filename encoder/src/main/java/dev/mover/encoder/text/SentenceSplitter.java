package dev.mover.encoder.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Rule-based sentence and clause splitter for English and Chinese with exact UTF-16 offsets.
 *
 * <p>Rules of {@link Mode#SENTENCES}:
 * <ul>
 *   <li>Every line break ({@code \n}, {@code \r}, U+2028, U+2029) ends a unit.</li>
 *   <li>Chinese and full-width terminators {@code 。！？；…} (and {@code ｡}) always end a sentence; a run of
 *       terminators (e.g. {@code ……}, {@code ！？}) stays together.</li>
 *   <li>ASCII {@code . ! ?} end a sentence when followed by whitespace, the end of the text or a CJK
 *       character, and the next word does not start with a lower-case letter. A single {@code .} does not end
 *       a sentence after a known abbreviation ({@code Mr. Dr. etc. vs. ...}), after a dotted abbreviation
 *       ({@code U.S. e.g. i.e. Ph.D.}), after a single capital letter (an initial, {@code J. K. Rowling}), or
 *       when followed directly by a non-space character ({@code 3.14}, {@code example.com}).</li>
 *   <li>Closing quotes and brackets right after a terminator ({@code ” ’ " ' ） ) 】 」 』 ］ ] 》 〉 }})
 *       are kept with the sentence they close.</li>
 * </ul>
 * {@link Mode#CLAUSES} adds the clause breaks of SPACES (bojone, CAIL2020), which splits on {@code \n。；：，}:
 * every sentence boundary above, plus a break after each full-width {@code ，：；} (a run of them stays
 * together) and after an ASCII {@code ;} followed by whitespace.
 *
 * <p>Spans are trimmed of surrounding whitespace (including U+3000 and no-break spaces); empty units are
 * dropped. The splitter is linear in the length of the text and allocates only the result list.
 */
public final class SentenceSplitter {

    /** Granularity of the units returned. */
    public enum Mode {
        /** Sentences (and lines). */
        SENTENCES,
        /** Sentences further cut into clauses on {@code ，：；} as SPACES does. */
        CLAUSES
    }

    /** Lower-cased abbreviations whose trailing period never ends a sentence. */
    private static final Set<String> ABBREVIATIONS = Set.of(
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "messrs", "mme", "mlle",
        "rev", "hon", "gen", "col", "lt", "capt", "cmdr", "sgt", "gov", "sen", "rep", "pres", "supt",
        "vs", "etc", "cf", "al", "eg", "ie", "viz", "approx", "ca", "esp", "incl",
        "inc", "ltd", "co", "corp", "dept", "univ", "assn", "bros",
        "fig", "figs", "eq", "eqs", "vol", "vols", "pp", "ed", "eds", "ch", "sec", "art", "ref", "refs",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "ave", "blvd", "rd", "ft", "est", "min", "max", "dist", "govt");

    /** Abbreviations that do not end a sentence only when a number follows ({@code No. 5}, {@code p. 12}). */
    private static final Set<String> NUMERIC_ABBREVIATIONS = Set.of("no", "nos", "p", "nr", "op", "tel");

    private SentenceSplitter() {}

    /** Sentence units of {@code text}; shorthand for {@code split(text, Mode.SENTENCES)}. */
    public static List<Span> sentences(String text) {
        return split(text, Mode.SENTENCES);
    }

    /** Clause units of {@code text}; shorthand for {@code split(text, Mode.CLAUSES)}. */
    public static List<Span> clauses(String text) {
        return split(text, Mode.CLAUSES);
    }

    /**
     * Splits {@code text} into trimmed, non-empty units in document order.
     *
     * @param text the source text; {@code null} or blank gives an empty list
     * @param mode sentence or clause granularity
     * @return spans with UTF-16 offsets into {@code text}, non-overlapping and increasing
     */
    public static List<Span> split(String text, Mode mode) {
        List<Span> out = new ArrayList<>();
        if (text == null || text.isEmpty()) {
            return out;
        }
        if (mode == null) {
            throw new IllegalArgumentException("[mode] must not be null");
        }
        final int n = text.length();
        int unitStart = 0;
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (isLineBreak(c)) {
                add(text, unitStart, i, out);
                unitStart = i + 1;
                i++;
                continue;
            }
            if (isCjkTerminator(c)) {
                int j = skipTerminatorsAndClosers(text, i + 1);
                if (c == '…' && continuesLowerCase(text, j)) {
                    i = j; // English ellipsis inside a sentence: "Wait… what"
                    continue;
                }
                add(text, unitStart, j, out);
                unitStart = j;
                i = j;
                continue;
            }
            if (c == '.' || c == '!' || c == '?') {
                int runEnd = i + 1;
                while (runEnd < n && isAsciiTerminatorOrEllipsis(text.charAt(runEnd))) {
                    runEnd++;
                }
                int j = skipClosers(text, runEnd);
                if (endsAsciiSentence(text, i, runEnd, j)) {
                    add(text, unitStart, j, out);
                    unitStart = j;
                }
                i = j;
                continue;
            }
            if (mode == Mode.CLAUSES) {
                if (isCjkClauseMark(c)) {
                    int j = i + 1;
                    while (j < n && (isCjkClauseMark(text.charAt(j)) || isCjkTerminator(text.charAt(j)))) {
                        j++;
                    }
                    j = skipClosers(text, j);
                    add(text, unitStart, j, out);
                    unitStart = j;
                    i = j;
                    continue;
                }
                if (c == ';' && (i + 1 == n || isSpace(text.charAt(i + 1)))) {
                    add(text, unitStart, i + 1, out);
                    unitStart = i + 1;
                }
            }
            i++;
        }
        add(text, unitStart, n, out);
        return out;
    }

    /**
     * Whether the ASCII terminator run {@code [first, runEnd)} (closers up to {@code afterClosers}) ends a sentence.
     */
    private static boolean endsAsciiSentence(String text, int first, int runEnd, int afterClosers) {
        final int n = text.length();
        if (afterClosers >= n) {
            return true;
        }
        char next = text.charAt(afterClosers);
        if (isCjk(next)) {
            // "他来了.我走了": but not a decimal such as "3.第"; a digit before a lone '.' keeps it together.
            return !(runEnd - first == 1 && text.charAt(first) == '.' && first > 0 && isAsciiDigit(text.charAt(first - 1)));
        }
        if (!isSpace(next) && !isLineBreak(next)) {
            return false; // 3.14, example.com, e.g., "?!" glued to a word
        }
        int m = afterClosers;
        while (m < n && isSpace(text.charAt(m))) {
            m++;
        }
        if (m >= n || isLineBreak(text.charAt(m))) {
            return true;
        }
        char following = text.charAt(m);
        if (Character.isLowerCase(following)) {
            return false; // a sentence does not start lower-case: "Wait... what", "Yahoo! is", "'Hi!' she said"
        }
        boolean singlePeriod = runEnd - first == 1 && text.charAt(first) == '.';
        if (!singlePeriod) {
            return true;
        }
        // The word before the period: letters and inner dots.
        int w = first;
        while (w > 0 && (Character.isLetter(text.charAt(w - 1)) || text.charAt(w - 1) == '.')) {
            w--;
        }
        if (w == first) {
            return true; // "in 1999. Then", ") ."
        }
        String word = text.substring(w, first);
        if (word.length() == 1 && Character.isUpperCase(word.charAt(0))) {
            return false; // initial: "J. K. Rowling"
        }
        if (word.indexOf('.') >= 0) {
            return false; // dotted abbreviation: U.S. e.g. i.e. Ph.D. a.m.
        }
        String lower = word.toLowerCase(Locale.ROOT);
        if (ABBREVIATIONS.contains(lower)) {
            return false;
        }
        if (NUMERIC_ABBREVIATIONS.contains(lower) && isAsciiDigit(following)) {
            return false;
        }
        return true;
    }

    /** Whether whitespace then a lower-case letter follows position {@code j}. */
    private static boolean continuesLowerCase(String text, int j) {
        final int n = text.length();
        if (j >= n || !isSpace(text.charAt(j))) {
            return false;
        }
        while (j < n && isSpace(text.charAt(j))) {
            j++;
        }
        return j < n && Character.isLowerCase(text.charAt(j));
    }

    private static void add(String text, int start, int end, List<Span> out) {
        while (start < end && isTrimmable(text.charAt(start))) {
            start++;
        }
        while (end > start && isTrimmable(text.charAt(end - 1))) {
            end--;
        }
        if (end > start) {
            out.add(new Span(start, end));
        }
    }

    private static int skipTerminatorsAndClosers(String text, int i) {
        final int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (isCjkTerminator(c) || isAsciiTerminatorOrEllipsis(c) || isCloser(c)) {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    private static int skipClosers(String text, int i) {
        final int n = text.length();
        while (i < n && isCloser(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isCjkTerminator(char c) {
        return c == '。' || c == '！' || c == '？' || c == '；' || c == '…' || c == '｡';
    }

    private static boolean isCjkClauseMark(char c) {
        return c == '，' || c == '：' || c == '；';
    }

    private static boolean isAsciiTerminatorOrEllipsis(char c) {
        return c == '.' || c == '!' || c == '?' || c == '…';
    }

    private static boolean isCloser(char c) {
        switch (c) {
            case '”': case '’': case '"': case '\'': case '）': case ')': case '】': case '」': case '』':
            case '］': case ']': case '》': case '〉': case '}': case '｝':
                return true;
            default:
                return false;
        }
    }

    private static boolean isLineBreak(char c) {
        return c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029';
    }

    private static boolean isSpace(char c) {
        return !isLineBreak(c) && (Character.isWhitespace(c) || Character.isSpaceChar(c));
    }

    private static boolean isTrimmable(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** CJK ideographs and CJK/full-width punctuation and kana. */
    private static boolean isCjk(char c) {
        Character.UnicodeBlock b = Character.UnicodeBlock.of(c);
        return b == Character.UnicodeBlock.CJK_UNIFIED_IDEOGRAPHS
            || b == Character.UnicodeBlock.CJK_UNIFIED_IDEOGRAPHS_EXTENSION_A
            || b == Character.UnicodeBlock.CJK_COMPATIBILITY_IDEOGRAPHS
            || b == Character.UnicodeBlock.CJK_SYMBOLS_AND_PUNCTUATION
            || b == Character.UnicodeBlock.HALFWIDTH_AND_FULLWIDTH_FORMS
            || b == Character.UnicodeBlock.HIRAGANA
            || b == Character.UnicodeBlock.KATAKANA
            || b == Character.UnicodeBlock.HANGUL_SYLLABLES
            || Character.isHighSurrogate(c); // supplementary ideographs (extension B+) start with a high surrogate
    }
}
